"""Appeals page: each popup variant's copy as readers see it now, next to its numbers and the verdict.

`show` is the page's callback as a plain function; its data comes from tracker.service.appeals_view.
Money is shown in the campaign's currency."""

from __future__ import annotations

from datetime import datetime

import dash_mantine_components as dmc
from sqlalchemy.orm import Session

from tracker import queries, service
from tracker.appeal_report import TOO_FEW_GIFTS, AppealReport, Comparison, VariantResult
from tracker.appeal_stats import LABEL_SRM
from tracker.appeals import RenderedCopy
from tracker.money import format_money, format_money_per_unit
from tracker.service import AppealsView

CONTENT = "appeals-content"
TAB = "appeals"


def _pct(x: float | None, signed: bool = False) -> str:
    if x is None:
        return "-"
    return f"{x:+.1%}" if signed else f"{x:.1%}"


def _interval(c: Comparison) -> str:
    if c.too_few_gifts:
        return TOO_FEW_GIFTS
    if c.lift.ci_low is None:
        return "-"
    return f"95% interval {c.lift.ci_low:+.0%} to {c.lift.ci_high:+.0%}"


def _lift(c: Comparison) -> str:
    """A metric's lift over the control with its own interval and its own chance to beat the control."""
    beat = TOO_FEW_GIFTS if c.too_few_gifts else _pct(c.chance_to_beat_control)
    return f"{_pct(c.lift.value, True)} ({_interval(c)}); chance to beat control {beat}"


def versions_line(row: VariantResult, currency: str) -> str:
    """Which copy version is live, and how the earlier ones did (results are kept per version)."""
    if not row.versions:
        return ""
    number, since, _ = row.versions[-1]
    text = f"Copy version {number} since {since.date().isoformat()}"
    earlier = [f"v{n}: {m.donations:,} donations, {format_money(m.revenue_cents, currency)}"
               for n, _, m in row.versions[:-1]]
    return text + (f"; earlier {'; '.join(earlier)}" if earlier else "")


def variant_card(row: VariantResult, copy: RenderedCopy, report: AppealReport) -> dmc.Paper:
    """One variant: its live copy (as a popup would show it) and its numbers against the control."""
    unit, cur, m = report.unit, report.currency, row.metrics
    conv, rpu = row.conversion, row.revenue_per_unit
    money = lambda cents: "-" if cents is None else format_money(cents, cur)  # noqa: E731
    per_unit = format_money_per_unit(m.capped_revenue_cents, m.units(unit), cur) or "-"
    numbers = [
        ("Impressions", f"{m.exposure.impressions:,}"),
        ("Readers", "-" if not m.exposure.readers else f"{m.exposure.readers:,}"),
        ("Clicks", f"{m.exposure.clicks:,} ({_pct(m.click_rate)})"),
        ("Donations", f"{m.donations:,} from {m.donors:,} donors"),
        ("Revenue", f"{money(m.revenue_cents)} (capped {money(m.capped_revenue_cents)})"),
        (f"Conversion per {unit}", _pct(conv.value)),
        (report.conversion_lift_label.capitalize(), "control" if row.control else _lift(conv)),
        (f"Revenue per {unit}", per_unit),
        (report.revenue_lift_label.capitalize(), "control" if row.control else _lift(rpu)),
        (f"Chance to be best ({report.revenue_label})",
         TOO_FEW_GIFTS if rpu.chance_best is None else _pct(rpu.chance_best)),
        ("Average gift", money(m.average_gift_cents)),
        ("First-time donors", _pct(m.first_time_share)),
        ("Recurring", _pct(m.recurring_share)),
    ]
    return dmc.Paper(
        [
            dmc.Group([dmc.Title(row.name, order=3),
                       dmc.Badge("control" if row.control else row.key, size="lg",
                                 color="gray" if row.control else "blue")], justify="space-between"),
            dmc.Paper(
                [dmc.Text(copy.headline, fw=700, fz=22), dmc.Text(copy.body, fz="md", mt="xs"),
                 dmc.Button(copy.button, mt="sm", color="#D55E00")],
                p="md", mt="sm", withBorder=True, radius="md", bg="#f8f9fa", className="popup-copy",
            ),
            dmc.Table(data={"body": [[k, v] for k, v in numbers]}, fz="md", mt="sm"),
            dmc.Text(versions_line(row, cur), c="dimmed", size="sm", mt="xs", className="copy-versions"),
        ],
        p="md", withBorder=True, radius="md", id=f"variant-{row.key}",
    )


def show(session: Session, slug: str, at: datetime):
    """The page for campaign `slug` at `at`."""
    return content(service.appeals_view(session, queries.get_campaign(session, slug), as_of=at), slug)


def content(view: AppealsView, slug: str):
    """The page for one appeals view: the verdict, the warnings, and each variant's card."""
    report = view.report
    if report is None:
        return dmc.Alert("This campaign has no popup variants yet. Load them with "
                         f"`tracker appeals load FILE.toml --campaign {slug}`.", color="blue", mt="md")
    v, cur = report.verdict, report.currency
    color = "green" if v.conclusive else ("red" if v.label == LABEL_SRM else "blue")
    title = v.label.capitalize() + (f": {v.leader}" if v.leader else "")
    gifts, _donors, cents = report.no_popup
    return [
        dmc.Alert(v.rule, title=title, color=color, id="appeals-verdict", mt="md"),
        *[dmc.Alert(w, color="yellow", mt="xs") for w in report.warnings],
        dmc.Text(f"Per {report.unit}; revenue {report.cap_rule}"
                 + (f" ({format_money(report.cap_cents, cur)})" if report.cap_cents is not None else "")
                 + "; sample-ratio check p = " + ("-" if report.srm_p is None else f"{report.srm_p:.3g}")
                 + f". Gifts without a popup: {gifts:,} ({format_money(cents, cur)}).",
                 c="dimmed", mt="sm"),
        dmc.SimpleGrid([variant_card(row, view.copies[row.key], report) for row in report.variants],
                       cols={"base": 1, "lg": 3}, spacing="md", mt="md"),
    ]
