"""How each popup variant raises money: the per-variant metrics, the comparisons with the control, the
verdict, and the report's JSON. Pure: no database, no clock.

Metrics are assembled from the aggregates tracker.queries computes (tracker.service gathers them);
the statistics live in tracker.appeal_stats. The report is a typed result that every renderer
reads (the CLI's table, the dashboard's page, the export, `--json`); money stays in cents and is
formatted in the campaign's currency by the renderer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tracker.appeal_stats import (
    SRM_THRESHOLD, Arm, Lift, Verdict, chance_best, chance_to_beat_control, relative_lift, risk, sequential_interval,
    srm_p_value, verdict, winsorize_cap,
)
from tracker.errors import UsageError
from tracker.money import cents_per_unit_str, cents_to_decimal_str

GIFT_SHARE_WARNING = 0.10  # warn when one gift is more than this share of a variant's revenue
NO_RESULTS = "no results yet"
# Below this many gifts in a variant or in the control, a comparison's intervals, chance to beat the
# control and risk are withheld (renderers say TOO_FEW_GIFTS): normal approximations on a handful of
# gifts give confident-looking numbers that mean nothing. Each arm's chance to be best is withheld
# while any arm has fewer. The lift itself and the verdict (which has its own --min-donations) stay.
MIN_GIFTS_PER_ARM = 30
TOO_FEW_GIFTS = "too few gifts"


@dataclass(frozen=True)
class Exposure:
    impressions: int = 0
    readers: int | None = 0  # None when some of the counts do not say how many distinct readers
    clicks: int = 0
    dismissals: int = 0

    def __add__(self, other: Exposure) -> Exposure:
        readers = None if self.readers is None or other.readers is None else self.readers + other.readers
        return Exposure(self.impressions + other.impressions, readers, self.clicks + other.clicks,
                        self.dismissals + other.dismissals)


@dataclass(frozen=True)
class Gift:
    variant: str
    donor_id: int
    donated_at: datetime
    cents: int
    recurring: bool
    donor_is_new: bool


@dataclass(frozen=True)
class Metrics:
    """One variant's (or one copy version's) numbers; money in cents."""

    exposure: Exposure
    donations: int
    donors: int
    revenue_cents: int
    capped_revenue_cents: int
    new_donors: int
    recurring_gifts: int
    largest_gift_cents: int

    @property
    def click_rate(self) -> float | None:
        return self.exposure.clicks / self.exposure.impressions if self.exposure.impressions else None

    @property
    def average_gift_cents(self) -> int | None:
        return None if not self.donations else (2 * self.revenue_cents + self.donations) // (2 * self.donations)

    @property
    def revenue_per_1000_impressions_cents(self) -> int | None:
        imp = self.exposure.impressions
        return None if not imp else (2000 * self.revenue_cents + imp) // (2 * imp)

    @property
    def first_time_share(self) -> float | None:
        return self.new_donors / self.donors if self.donors else None

    @property
    def recurring_share(self) -> float | None:
        return self.recurring_gifts / self.donations if self.donations else None

    @property
    def one_gift_dominates(self) -> bool:
        return self.revenue_cents > 0 and self.largest_gift_cents > GIFT_SHARE_WARNING * self.revenue_cents

    def units(self, unit: str) -> int:
        """Readers or impressions exposed, by the report's unit."""
        return (self.exposure.readers or 0) if unit == "reader" else self.exposure.impressions

    def conversion_rate(self, unit: str) -> float | None:
        """Donors per unit exposed (never above 1: more donors than units means incomplete counts)."""
        units = self.units(unit)
        return min(self.donors, units) / units if units else None


def metrics(gifts: list[Gift], exposure: Exposure, cap: int | None) -> Metrics:
    donors = {g.donor_id for g in gifts}
    return Metrics(
        exposure=exposure, donations=len(gifts), donors=len(donors), revenue_cents=sum(g.cents for g in gifts),
        capped_revenue_cents=sum(g.cents if cap is None else min(g.cents, cap) for g in gifts),
        new_donors=len({g.donor_id for g in gifts if g.donor_is_new}),
        recurring_gifts=sum(1 for g in gifts if g.recurring), largest_gift_cents=max((g.cents for g in gifts), default=0),
    )


@dataclass(frozen=True)
class Comparison:
    """One metric of one variant against the control (lift and intervals relative: 0.12 = +12%)."""

    value: float | None
    lift: Lift
    sequential: Lift
    chance_to_beat_control: float | None  # of this metric (None for the control, or with too few gifts)
    chance_best: float | None  # of this metric (None while any arm has fewer than MIN_GIFTS_PER_ARM gifts)
    risk: tuple[float, float] | None  # (expected relative loss choosing it, keeping the control)
    too_few_gifts: bool = False  # the variant or the control has fewer than MIN_GIFTS_PER_ARM gifts


@dataclass(frozen=True)
class VariantResult:
    key: str
    name: str
    control: bool
    active: bool
    share: float | None
    headline: str
    body: str
    button: str
    metrics: Metrics
    conversion: Comparison
    revenue_per_unit: Comparison
    versions: tuple[tuple[int, datetime, Metrics], ...]
    # the Holm-corrected always-valid lift of revenue per unit the verdict judged (None for the control,
    # and when the verdict is blocked or there are no results); never withheld: the verdict is shown
    verdict_interval: Lift | None = None


@dataclass(frozen=True)
class AppealReport:
    """The appeals report: the variants' results, the verdict and the warnings; money in `currency`'s cents."""

    unit: str  # "reader" or "impression"
    cap_cents: int | None
    cap_rule: str
    srm_p: float | None
    verdict: Verdict
    variants: tuple[VariantResult, ...]
    no_popup: tuple[int, int, int]  # gifts, donors, cents of gifts without a variant
    warnings: tuple[str, ...]
    currency: str = "USD"

    @property
    def conversion_lift_label(self) -> str:
        return f"conversion lift (donors per {self.unit})"

    @property
    def revenue_lift_label(self) -> str:
        return f"{self.revenue_label} lift"

    @property
    def revenue_label(self) -> str:
        """The revenue metric compared: per reader, or per 1,000 impressions (the same relative lift as per
        impression)."""
        return "revenue per 1,000 impressions" if self.unit == "impression" else f"revenue per {self.unit}"


def _compare(arms: dict[str, Arm], control: str, key: str, best: dict[str, float] | None,
             too_few: bool) -> Comparison:
    """One metric of `key` against the control; `too_few` withholds its intervals, chance and risk,
    `best` None withholds the chance to be best."""
    arm, ctrl = arms[key], arms[control]
    value = arm.mean if arm.units else None
    chance = None if best is None else best.get(key, 0.0)
    if key == control:
        return Comparison(value, Lift(), Lift(), None, chance, None, too_few)
    lift = relative_lift(ctrl, arm)
    if too_few:
        return Comparison(value, Lift(lift.value), Lift(lift.value), None, chance, None, True)
    return Comparison(value, lift, sequential_interval(ctrl, arm), chance_to_beat_control(ctrl, arm), chance,
                      risk(ctrl, arm))


def build_report(variants: list, gifts: list[Gift], exposures: dict[str, Exposure],
                 version_exposures: dict[tuple[str, int], Exposure], no_popup: tuple[int, int, int],
                 *, cap: str = "p99", min_donations: int = 100, currency: str = "USD") -> AppealReport:
    """Assemble the appeals report from the campaign's variants (ORM rows with .versions), its popup gifts and
    exposures. `cap` is "none", "p99" (the 99th percentile of the popup gifts) or an amount in cents."""
    keys = [v.key for v in variants]
    control = next((v.key for v in variants if v.is_control), None)
    mine = [g for g in gifts if g.variant in keys]
    if cap == "none":
        cap_cents, cap_rule = None, "uncapped"
    elif cap == "p99":
        cap_cents = winsorize_cap([g.cents for g in mine], 0.99)
        cap_rule = "each gift capped at the 99th percentile of popup gifts"
    else:
        cap_cents, cap_rule = int(cap), "each gift capped at a fixed amount"
    by_variant = {k: [g for g in mine if g.variant == k] for k in keys}
    results = {k: metrics(by_variant[k], exposures.get(k, Exposure()), cap_cents) for k in keys}
    with_readers = all(results[k].exposure.readers for k in keys)
    unit = "reader" if with_readers else "impression"

    def units(k: str) -> int:
        e = results[k].exposure
        return (e.readers or 0) if with_readers else e.impressions

    conv = {k: Arm.conversions(k, units(k), min(results[k].donors, units(k))) for k in keys}
    rev = {}
    for k in keys:
        per_donor: dict[int, int] = {}
        for g in by_variant[k]:
            per_donor[g.donor_id] = per_donor.get(g.donor_id, 0) + (g.cents if cap_cents is None else min(g.cents, cap_cents))
        # one value per converting unit; more donors than units exposed means the exposure counts are
        # incomplete, and the arm then holds only as many donors as units (conversion is capped the same way)
        values = list(per_donor.values())[:units(k)]
        rev[k] = Arm.from_values(k, units(k), values)
    shares = [v.share_bp for v in variants]
    srm = None
    if control and all(shares) and sum(units(k) for k in keys) > 0:
        srm = srm_p_value([units(k) for k in keys], [s / 10_000 for s in shares])
    if control is None:
        raise UsageError("the campaign's variants have no control; load them with one variant marked control = true")
    decided = verdict(list(rev.values()), control, srm, donations={k: results[k].donations for k in keys},
                      min_donations=min_donations)
    if not any(units(k) or results[k].donations for k in keys):
        decided = Verdict(NO_RESULTS, None, False, decided.rule)  # nothing shown, nothing given: nobody leads
    best_conv = chance_best(list(conv.values()))
    best_rev = decided.chance_best or chance_best(list(rev.values()))
    gifts_in = {k: results[k].donations for k in keys}
    all_enough = all(n >= MIN_GIFTS_PER_ARM for n in gifts_in.values())
    out, warnings = [], []
    for v in variants:
        k, m = v.key, results[v.key]
        if m.one_gift_dominates:
            warnings.append(f"{k}: one gift is more than {GIFT_SHARE_WARNING:.0%} of its revenue; compare the capped revenue")
        versions = []
        ordered = sorted(v.versions, key=lambda x: x.version)
        for i, ver in enumerate(ordered):
            until = ordered[i + 1].valid_from if i + 1 < len(ordered) else None
            in_version = [g for g in by_variant[k] if g.donated_at >= ver.valid_from and (until is None or g.donated_at < until)]
            versions.append((ver.version, ver.valid_from,
                             metrics(in_version, version_exposures.get((k, ver.version), Exposure()), cap_cents)))
        too_few = min(gifts_in[k], gifts_in[control]) < MIN_GIFTS_PER_ARM
        out.append(VariantResult(
            key=k, name=v.name, control=v.is_control, active=v.active,
            share=None if v.share_bp is None else v.share_bp / 10_000, headline=v.headline, body=v.body,
            button=v.button, metrics=m,
            conversion=_compare(conv, control, k, best_conv if all_enough else None, too_few),
            revenue_per_unit=_compare(rev, control, k, best_rev if all_enough else None, too_few),
            versions=tuple(versions), verdict_interval=decided.intervals.get(k),
        ))
    if srm is not None and srm < SRM_THRESHOLD:
        warnings.append(f"the traffic split does not match the planned shares (p = {srm:.2g}): check the popup's allocation")
    return AppealReport(unit, cap_cents, cap_rule, srm, decided, tuple(out), no_popup, tuple(warnings), currency)


def _cmp_json(c: Comparison, money: bool, units_cents) -> dict:
    r = c.risk
    return {
        "value": units_cents if money else (None if c.value is None else round(c.value, 6)),
        "lift": None if c.lift.value is None else round(c.lift.value, 4),
        "ci_low": None if c.lift.ci_low is None else round(c.lift.ci_low, 4),
        "ci_high": None if c.lift.ci_high is None else round(c.lift.ci_high, 4),
        "sequential_ci_low": None if c.sequential.ci_low is None else round(c.sequential.ci_low, 4),
        "sequential_ci_high": None if c.sequential.ci_high is None else round(c.sequential.ci_high, 4),
        "chance_to_beat_control": None if c.chance_to_beat_control is None else round(c.chance_to_beat_control, 4),
        "chance_best": _ratio(c.chance_best),
        "risk": None if r is None else {"choose_variant": round(r[0], 4), "keep_control": round(r[1], 4)},
        "too_few_gifts": c.too_few_gifts,
    }


def _verdict_interval_json(lift: Lift | None) -> dict | None:
    if lift is None or lift.value is None:
        return None
    return {"metric": "revenue_per_unit", "lift": _ratio(lift.value), "ci_low": _ratio(lift.ci_low),
            "ci_high": _ratio(lift.ci_high)}


def _ratio(x: float | None, places: int = 4) -> float | None:
    return None if x is None else round(x, places)


def metrics_json(m: Metrics, unit: str) -> dict:
    """One variant's or version's metrics: counts, money as decimal strings, shares as fractions."""
    return {
        "impressions": m.exposure.impressions, "readers": m.exposure.readers, "clicks": m.exposure.clicks,
        "dismissals": m.exposure.dismissals, "click_rate": _ratio(m.click_rate),
        "donations": m.donations, "donors": m.donors,
        "conversion_rate": _ratio(m.conversion_rate(unit), 6),
        "revenue": cents_to_decimal_str(m.revenue_cents), "revenue_capped": cents_to_decimal_str(m.capped_revenue_cents),
        "revenue_per_1000_impressions": None if m.revenue_per_1000_impressions_cents is None
        else cents_to_decimal_str(m.revenue_per_1000_impressions_cents),
        "average_gift": None if m.average_gift_cents is None else cents_to_decimal_str(m.average_gift_cents),
        "first_time_share": _ratio(m.first_time_share), "recurring_share": _ratio(m.recurring_share),
    }


def report_json(report: AppealReport, campaign: str, as_of: str) -> dict:
    """The report as `tracker appeals report --json` prints it (README: Popup appeals)."""
    rows = []
    for v in report.variants:
        m = v.metrics
        units = m.units(report.unit)
        rows.append({
            "key": v.key, "name": v.name, "control": v.control, "active": v.active, "share": v.share,
            **metrics_json(m, report.unit),
            "conversion": _cmp_json(v.conversion, False, None),
            "revenue_per_unit": _cmp_json(v.revenue_per_unit, True, cents_per_unit_str(m.capped_revenue_cents, units)),
            "verdict_interval_holm": _verdict_interval_json(v.verdict_interval),
            "versions": [{"version": n, "from": since.isoformat(), **metrics_json(vm, report.unit)}
                         for n, since, vm in v.versions],
        })
    gifts, donors, cents = report.no_popup
    return {
        "campaign": campaign, "as_of": as_of, "currency": report.currency, "unit": report.unit,
        "cap": None if report.cap_cents is None else cents_to_decimal_str(report.cap_cents), "cap_rule": report.cap_rule,
        "srm_p": None if report.srm_p is None else round(report.srm_p, 6), "min_gifts_per_arm": MIN_GIFTS_PER_ARM,
        "verdict": {"label": report.verdict.label, "leader": report.verdict.leader,
                    "conclusive": report.verdict.conclusive, "rule": report.verdict.rule},
        "variants": rows,
        "no_popup": {"donations": gifts, "donors": donors, "revenue": cents_to_decimal_str(cents)},
        "warnings": list(report.warnings),
    }
