"""Appeals page: each popup variant's copy as readers see it now, next to its numbers and the verdict."""

from __future__ import annotations

import dash_mantine_components as dmc

from tracker.appeal_stats import LABEL_SRM
from tracker.money import format_money, parse_cents

CONTENT = "appeals-content"
TAB = "appeals"


def _money(text: str | None, whole: bool = False) -> str:
    return "-" if text is None else format_money(parse_cents(text), whole=whole)


def _pct(x: float | None, signed: bool = False) -> str:
    if x is None:
        return "-"
    return f"{x:+.1%}" if signed else f"{x:.1%}"


def _interval(c: dict) -> str:
    if c["ci_low"] is None:
        return "-"
    return f"{c['ci_low']:+.0%} to {c['ci_high']:+.0%}"


def versions_line(row: dict) -> str:
    """Which copy version is live, and how the earlier ones did (results are kept per version)."""
    versions = row["versions"]
    if not versions:
        return ""
    live = versions[-1]
    text = f"Copy version {live['version']} since {live['from'][:10]}"
    earlier = [f"v{v['version']}: {v['donations']:,} donations, {_money(v['revenue'])}" for v in versions[:-1]]
    return text + (f"; earlier {'; '.join(earlier)}" if earlier else "")


def variant_card(row: dict, rendered: dict, unit: str) -> dmc.Paper:
    """One variant: its live copy (as a popup would show it) and its numbers against the control."""
    conv, rpu = row["conversion"], row["revenue_per_unit"]
    numbers = [
        ("Impressions", f"{row['impressions']:,}"),
        ("Readers", "-" if not row["readers"] else f"{row['readers']:,}"),
        ("Clicks", f"{row['clicks']:,} ({_pct(row['click_rate'])})"),
        ("Donations", f"{row['donations']:,} from {row['donors']:,} donors"),
        ("Revenue", f"{_money(row['revenue'])} (capped {_money(row['revenue_capped'])})"),
        (f"Conversion per {unit}", f"{_pct(conv['value'])}" + ("" if row["control"] else
                                   f", lift {_pct(conv['lift'], True)} ({_interval(conv)})")),
        (f"Revenue per {unit}", f"${rpu['value'] or '-'}" + ("" if row["control"] else
                                f", lift {_pct(rpu['lift'], True)} ({_interval(rpu)})")),
        ("Chance to beat control", "control" if row["control"] else _pct(rpu["chance_to_beat_control"])),
        ("Chance to be best", _pct(rpu["chance_best"])),
        ("Average gift", _money(row["average_gift"])),
        ("First-time donors", _pct(row["first_time_share"])),
        ("Recurring", _pct(row["recurring_share"])),
    ]
    return dmc.Paper(
        [
            dmc.Group([dmc.Title(row["name"], order=3),
                       dmc.Badge("control" if row["control"] else row["key"], size="lg",
                                 color="gray" if row["control"] else "blue")], justify="space-between"),
            dmc.Paper(
                [dmc.Text(rendered["headline"], fw=700, fz=22), dmc.Text(rendered["body"], fz="md", mt="xs"),
                 dmc.Button(rendered["button"], mt="sm", color="#D55E00")],
                p="md", mt="sm", withBorder=True, radius="md", bg="#f8f9fa", className="popup-copy",
            ),
            dmc.Table(data={"body": [[k, v] for k, v in numbers]}, fz="md", mt="sm"),
            dmc.Text(versions_line(row), c="dimmed", size="sm", mt="xs", className="copy-versions"),
        ],
        p="md", withBorder=True, radius="md", id=f"variant-{row['key']}",
    )


def content(report: dict, rendered: dict[str, dict]) -> list:
    """The page for one appeals report (tracker.appeals.report_json) and each variant's rendered copy."""
    v = report["verdict"]
    color = "green" if v["conclusive"] else ("red" if v["label"] == LABEL_SRM else "blue")
    title = f"{v['label'].capitalize()}" + (f": {v['leader']}" if v["leader"] else "")
    return [
        dmc.Alert(v["rule"], title=title, color=color, id="appeals-verdict", mt="md"),
        *[dmc.Alert(w, color="yellow", mt="xs") for w in report["warnings"]],
        dmc.Text(f"Per {report['unit']}; revenue {report['cap_rule']}"
                 + (f" ({_money(report['cap'])})" if report["cap"] else "") + "; sample-ratio check p = "
                 + ("-" if report["srm_p"] is None else f"{report['srm_p']:.3g}")
                 + f". Gifts without a popup: {report['no_popup']['donations']:,} ({_money(report['no_popup']['revenue'])}).",
                 c="dimmed", mt="sm"),
        dmc.SimpleGrid([variant_card(row, rendered[row["key"]], report["unit"]) for row in report["variants"]],
                       cols={"base": 1, "lg": 3}, spacing="md", mt="md"),
    ]
