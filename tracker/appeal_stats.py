"""Statistics for comparing donation-popup copy variants (pure functions, no I/O).

Owns: per-arm summaries (:class:`Arm`), the relative lift and its intervals, the
Bayesian chance to beat control / risk / chance to be best, the sample-ratio
mismatch (SRM) check, Holm's correction, the winsorizing cap for gift amounts,
and the page's :func:`verdict`.  Standard library only (no numpy, no scipy).

Methods and references
* Relative lift ``mean_v / mean_c - 1``, delta-method standard error for the
  ratio of two independent means, as GrowthBook's frequentist engine
  (growthbook/growthbook ``packages/stats/gbstats/frequentist/tests.py``,
  ``frequentist_variance``).  Normal quantile where gbstats uses Student's t with
  Welch degrees of freedom; they agree at the sample sizes we act on.
* Bayesian, flat prior: ``log(mean_v/mean_c)`` ~ normal with delta-method variance
  ``var/(n*mean^2)`` summed over arms, as gbstats' original Bayesian engine
  (``gbstats/bayesian/tests.py`` with ``Norm.moments(log=True)``; gbstats >= 0.7
  uses a normal posterior of the lift itself).  The lift is then log-normal, and
  its expected losses have a closed (Black-Scholes-type) form.
* Sequential: the asymptotic normal-mixture confidence sequence of Waudby-Smith
  et al., "Time-uniform central limit theory and asymptotic confidence sequences"
  (arXiv:2103.06476v7): half-width eq. 9, rho from the tuning size eq. 161,
  always-valid p-value ``1/e-value`` eq. 155, as gbstats' ``SequentialTwoSidedTTest``
  (``n`` = both arms' units, per-unit variance ``se^2 * n``).
* SRM: Pearson chi-square goodness of fit; survival function through the
  regularized upper incomplete gamma Q(a, x) (series + Lentz continued fraction,
  Press et al., Numerical Recipes, 3rd ed., sec. 6.2 ``gammq``).
* Holm (1979), "A simple sequentially rejective multiple test procedure".
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from statistics import NormalDist

SRM_THRESHOLD = 0.001
LABEL_WINNER = "winner"
LABEL_LEADING = "leading, not yet conclusive"
LABEL_SRM = "sample ratio mismatch: results blocked"
_N = NormalDist()


@dataclass(frozen=True)
class Arm:
    """One variant's sufficient statistics for a per-unit metric: ``units`` readers
    (or impressions) exposed, ``total`` the metric summed over units (converting
    units, or revenue in cents), ``total_sq`` the sum of each unit's squared value
    (equal to ``total`` for a 0/1 conversion metric)."""

    key: str
    units: int
    total: float
    total_sq: float

    def __post_init__(self) -> None:
        if self.units < 0 or self.total_sq < 0:
            raise ValueError(f"arm {self.key!r}: negative units or total_sq")

    @classmethod
    def conversions(cls, key: str, units: int, converted: int) -> Arm:
        """Arm for a 0/1 metric: ``converted`` of ``units`` units converted."""
        return cls(key, units, float(converted), float(converted))

    @classmethod
    def from_values(cls, key: str, units: int, values: list[float]) -> Arm:
        """Arm from the values of the units that have one (e.g. each donor's total
        in cents); the other ``units - len(values)`` units count as 0."""
        if len(values) > units:
            raise ValueError(f"arm {key!r}: more values than units")
        return cls(key, units, float(sum(values)), float(sum(v * v for v in values)))

    @property
    def mean(self) -> float:
        """Mean per unit (0.0 when there are no units)."""
        return self.total / self.units if self.units else 0.0

    @property
    def variance(self) -> float:
        """Sample variance (n - 1 denominator) of the per-unit value; 0.0 if units < 2."""
        n = self.units
        return max(0.0, (self.total_sq - self.total**2 / n) / (n - 1)) if n >= 2 else 0.0


@dataclass(frozen=True)
class Lift:
    """Relative lift ``mean_v/mean_c - 1``, two-sided interval, standard error and
    p-value; every field is None when the lift is undefined."""

    value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    se: float | None = None
    p_value: float | None = None


def _delta(control: Arm, variant: Arm) -> tuple[float, float] | None:
    """(lift, delta-method se), or None if an arm has < 2 units or the control mean is 0."""
    if control.units < 2 or variant.units < 2 or control.mean <= 0:
        return None
    mc, mv = control.mean, variant.mean
    var = variant.variance / (mc**2 * variant.units) + control.variance * mv**2 / (
        mc**4 * control.units)
    return mv / mc - 1.0, math.sqrt(var)


def relative_lift(control: Arm, variant: Arm, alpha: float = 0.05) -> Lift:
    """Fixed-horizon relative lift with a 1-alpha delta-method (normal) interval and
    two-sided p-value.  Valid for one look only; see :func:`sequential_interval`."""
    d = _delta(control, variant)
    if d is None:
        return Lift()
    value, se = d
    half = _N.inv_cdf(1 - alpha / 2) * se
    p = (1.0 if value == 0 else 0.0) if se == 0 else min(1.0, 2 * _N.cdf(-abs(value) / se))
    return Lift(value, value - half, value + half, se, p)


def sequential_rho(alpha: float, tuning: float = 5000) -> float:
    """Mixing parameter rho that makes the confidence sequence tightest at ``tuning``
    total units (Waudby-Smith et al. eq. 161; gbstats ``SequentialTwoSidedTTest.rho``)."""
    if not 0 < alpha < 1 or tuning <= 0:
        raise ValueError("need 0 < alpha < 1 and tuning > 0")
    la = -2 * math.log(alpha)
    return math.sqrt((la + math.log(la + 1)) / tuning)


def sequential_interval(control: Arm, variant: Arm, alpha: float = 0.05,
                        tuning: float = 5000, rho: float | None = None) -> Lift:
    """Always-valid (anytime) 1-alpha confidence sequence for the relative lift.

    Half-width ``sqrt(s2 * 2(n rho^2+1)/(n rho)^2 * log(sqrt(n rho^2+1)/alpha))``
    with ``n`` both arms' units and ``s2 = se^2 * n`` (eq. 9); ``p_value`` is the
    always-valid ``min(1, 1/e-value)`` (eq. 155).  For a fixed ``rho`` the interval
    excludes 0 exactly when ``p_value < alpha``: pass the nominal alpha's ``rho``
    with Holm-adjusted alphas so the two stay in step.  ``tuning`` is GrowthBook's
    ``sequentialTuningParameter`` (total units where the interval is tightest).
    """
    d = _delta(control, variant)
    if d is None:
        return Lift()
    value, se = d
    r = sequential_rho(alpha, tuning) if rho is None else rho
    n = control.units + variant.units
    nr2p1 = n * r * r + 1
    half = se * math.sqrt(n * 2 * nr2p1 / (n * r) ** 2 * math.log(math.sqrt(nr2p1) / alpha))
    if se == 0:
        p = 1.0 if value == 0 else 0.0
    else:
        log_e = r * r * value * value * n / (se * se) / (2 * nr2p1) - 0.5 * math.log(nr2p1)
        p = math.exp(-max(0.0, log_e))
    return Lift(value, value - half, value + half, se, p)


def _log_posterior(control: Arm, variant: Arm) -> tuple[float, float] | None:
    """Posterior (mean, sd) of log(mean_v/mean_c); None if a mean is 0 or units < 2."""
    if min(control.units, variant.units) < 2 or min(control.mean, variant.mean) <= 0:
        return None
    s2 = control.variance / (control.units * control.mean**2) + variant.variance / (
        variant.units * variant.mean**2)
    return math.log(variant.mean / control.mean), math.sqrt(s2)


def _prob_positive(m: float, s: float) -> float:
    return _N.cdf(m / s) if s > 0 else 1.0 if m > 0 else 0.0 if m < 0 else 0.5


def chance_to_beat_control(control: Arm, variant: Arm) -> float:
    """Posterior probability that the variant's mean exceeds the control's (normal
    posterior of the log mean ratio, flat prior).  If a mean is 0 the normal
    posterior of the raw difference is used; with < 2 units in an arm, 0.5."""
    post = _log_posterior(control, variant)
    if post is not None:
        return _prob_positive(*post)
    if min(control.units, variant.units) < 2:
        return 0.5
    s = math.sqrt(control.variance / control.units + variant.variance / variant.units)
    return _prob_positive(variant.mean - control.mean, s)


def risk(control: Arm, variant: Arm) -> tuple[float, float] | None:
    """(expected relative loss if we choose the variant, expected relative loss if
    we keep the control), as fractions of the control mean.

    With ``D = log(mean_v/mean_c) ~ N(m, s^2)``, ``L = e^D - 1`` and
    ``k = e^(m + s^2/2)``: ``E[max(0,-L)] = Phi(-m/s) - k Phi(-m/s - s)`` and
    ``E[max(0,L)] = k Phi(m/s + s) - Phi(m/s)``.  A variant with mean 0 has lift
    -1 and (delta method) no spread, so (1.0, 0.0).  None when the control mean
    is 0 or an arm has < 2 units (relative loss undefined)."""
    post = _log_posterior(control, variant)
    if post is None:
        d = _delta(control, variant)
        return None if d is None else (max(0.0, -d[0]), max(0.0, d[0]))
    m, s = post
    if s == 0:
        return max(0.0, -math.expm1(m)), max(0.0, math.expm1(m))
    k, z = math.exp(m + s * s / 2), m / s
    return (max(0.0, _N.cdf(-z) - k * _N.cdf(-z - s)),
            max(0.0, k * _N.cdf(z + s) - _N.cdf(z)))


def chance_best(arms: list[Arm], draws: int = 20000, seed: int = 0) -> dict[str, float]:
    """Each arm's posterior probability of having the highest mean: Monte Carlo with
    a seeded ``random.Random`` (deterministic; error about 0.004 at 20000 draws).

    Normal posteriors of log means (as in :func:`chance_to_beat_control`), or of
    raw means for all arms when some arm's mean is 0.  Arms without units get 0;
    ties within a draw share the credit."""
    keys = [a.key for a in arms]
    if len(set(keys)) != len(keys):
        raise ValueError("arm keys must be unique")
    usable = [a for a in arms if a.units > 0]
    if not usable:
        return {k: 1 / len(keys) for k in keys}
    log_scale = all(a.mean > 0 for a in usable)
    params = []
    for a in usable:
        sd = math.sqrt(a.variance / a.units)
        params.append((math.log(a.mean), sd / a.mean) if log_scale else (a.mean, sd))
    rng, out = random.Random(seed), dict.fromkeys(keys, 0.0)
    for _ in range(draws):
        xs = [rng.gauss(mu, sd) if sd > 0 else mu for mu, sd in params]
        top = max(xs)
        best = [a.key for a, x in zip(usable, xs) if x == top]
        for k in best:
            out[k] += 1 / len(best)
    return {k: v / draws for k, v in out.items()}


def _gammq(a: float, x: float) -> float:
    """Regularized upper incomplete gamma Q(a, x) (Numerical Recipes ``gammq``)."""
    if x <= 0:
        return 1.0
    front, eps, tiny = math.exp(-x + a * math.log(x) - math.lgamma(a)), 1e-15, 1e-300
    if x < a + 1:  # series for P(a, x), then Q = 1 - P
        ap, term = a, 1.0 / a
        total = term
        while abs(term) >= abs(total) * eps:
            ap += 1
            term *= x / ap
            total += term
        return max(0.0, 1.0 - total * front)
    b, c = x + 1 - a, 1 / tiny  # modified Lentz continued fraction for Q(a, x)
    d = 1 / b
    h = d
    for i in range(1, 100000):
        an, b = -i * (i - a), b + 2
        d, c = an * d + b, b + an / c
        d, c = 1 / (d if abs(d) >= tiny else tiny), (c if abs(c) >= tiny else tiny)
        h *= d * c
        if abs(d * c - 1) < eps:
            break
    return min(1.0, front * h)


def srm_p_value(units: list[int], planned_shares: list[float]) -> float:
    """Chi-square goodness-of-fit p-value of observed units against planned shares
    (normalized to sum to 1).  An arm planned at 0 is dropped if empty and gives
    p = 0 if it got units.  Results are blocked below :data:`SRM_THRESHOLD`."""
    if len(units) != len(planned_shares) or len(units) < 2:
        raise ValueError("need matching lists of at least two arms")
    if min(units) < 0 or min(planned_shares) < 0 or sum(planned_shares) <= 0:
        raise ValueError("units and shares must be non-negative, shares not all 0")
    total, share_sum = sum(units), sum(planned_shares)
    if total == 0:
        return 1.0
    chi2, arms = 0.0, 0
    for observed, share in zip(units, planned_shares):
        if share == 0:
            if observed:
                return 0.0
            continue
        expected = total * share / share_sum
        chi2, arms = chi2 + (observed - expected) ** 2 / expected, arms + 1
    return 1.0 if arms < 2 else _gammq((arms - 1) / 2, chi2 / 2)


def _holm_order(p_values: dict[str, float]) -> list[str]:
    return sorted(p_values, key=lambda k: (p_values[k], k))


def holm(p_values: dict[str, float]) -> dict[str, float]:
    """Holm step-down adjusted p-values: sorted ascending, the i-th of m becomes
    ``min(1, max_{j<=i} (m - j + 1) p_(j))``.  Reject where adjusted <= alpha."""
    m, running, out = len(p_values), 0.0, {}
    for i, k in enumerate(_holm_order(p_values)):
        running = max(running, min(1.0, (m - i) * p_values[k]))
        out[k] = running
    return out


def holm_alphas(p_values: dict[str, float], alpha: float = 0.05) -> dict[str, float]:
    """Per-test Holm level: the r-th smallest p-value of m gets ``alpha/(m - r + 1)``.
    Step-down: a test counts only if every better-ranked one did (see :func:`holm`)."""
    m = len(p_values)
    return {k: alpha / (m - i) for i, k in enumerate(_holm_order(p_values))}


def winsorize_cap(values_cents: list[int], quantile: float = 0.99) -> int | None:
    """Cap at the given quantile of gift amounts, nearest rank: the
    ``ceil(quantile * n)``-th smallest value (integer cents); None when empty."""
    if not 0 < quantile <= 1:
        raise ValueError("quantile must be in (0, 1]")
    if not values_cents:
        return None
    ordered = sorted(values_cents)
    return int(ordered[max(1, math.ceil(quantile * len(ordered))) - 1])


def apply_cap(values_cents: list[int], cap: int | None) -> list[int]:
    """Values with anything above ``cap`` replaced by ``cap`` (unchanged if None)."""
    return list(values_cents) if cap is None else [min(v, cap) for v in values_cents]


@dataclass(frozen=True)
class Verdict:
    """The page's label; ``leader`` is the winning or leading arm's key (None when
    blocked); ``intervals`` each variant's Holm-corrected always-valid lift."""

    label: str
    leader: str | None
    conclusive: bool
    rule: str
    intervals: dict[str, Lift] = field(default_factory=dict)
    chance_best: dict[str, float] = field(default_factory=dict)


def verdict(arms: list[Arm], control: str, srm_p: float | None = None,
            donations: dict[str, int] | None = None, alpha: float = 0.05,
            tuning: float = 5000, min_donations: int = 100, seed: int = 0) -> Verdict:
    """Label the experiment from the primary metric's ``arms`` (``control`` is the
    control's key).  ``donations`` per key defaults to each arm's ``total`` (right
    for a conversion metric; pass it when the primary metric is revenue).

    Blocked when ``srm_p < SRM_THRESHOLD``.  Else, if every arm has at least
    ``min_donations`` donations: a variant wins when its Holm-adjusted always-valid
    p-value is <= alpha with a positive lift (its interval at its Holm level lies
    above 0; the likeliest best among several), and the control wins if every
    variant is significantly negative.  Otherwise the arm with the highest chance
    to be best leads, not yet conclusive."""
    by_key = {a.key: a for a in arms}
    if len(by_key) != len(arms) or control not in by_key:
        raise ValueError("arm keys must be unique and include the control")
    variants = [a for a in arms if a.key != control]
    rule = (
        f"A version is called the winner only when every version, the control included, "
        f"has at least {min_donations} donations and its always-valid {100 * (1 - alpha):g}% "
        f"interval for the lift over the control (Holm-corrected for {len(variants)} "
        f"variant(s)) lies wholly above zero; the control wins if every variant's interval "
        f"lies wholly below zero. Until then the version most likely to be best is shown as "
        f"leading, and nothing is shown while the traffic split fails the sample-ratio "
        f"check (p < {SRM_THRESHOLD:g})."
    )
    if srm_p is not None and srm_p < SRM_THRESHOLD:
        return Verdict(LABEL_SRM, None, False, rule)
    ctrl, rho = by_key[control], sequential_rho(alpha, tuning)
    raw = {v.key: sequential_interval(ctrl, v, alpha, tuning, rho).p_value for v in variants}
    p = {k: 1.0 if x is None else x for k, x in raw.items()}
    adjusted, levels = holm(p), holm_alphas(p, alpha)
    intervals = {v.key: sequential_interval(ctrl, v, levels[v.key], tuning, rho) for v in variants}
    best = chance_best(arms, seed=seed)
    counts = donations if donations is not None else {a.key: round(a.total) for a in arms}
    enough = all(counts.get(a.key, 0) >= min_donations for a in arms)

    def significant(k: str, above: bool) -> bool:
        iv = intervals[k]
        if iv.value is None or adjusted[k] > alpha:
            return False
        return iv.ci_low > 0 if above else iv.ci_high < 0

    winners = [k for k in intervals if significant(k, True)]
    if enough and winners:
        leader = max(winners, key=lambda k: (best[k], k))
        return Verdict(LABEL_WINNER, leader, True, rule, intervals, best)
    if enough and variants and all(significant(k, False) for k in intervals):
        return Verdict(LABEL_WINNER, control, True, rule, intervals, best)
    leader = max(best, key=lambda k: (best[k], k == control))
    return Verdict(LABEL_LEADING, leader, False, rule, intervals, best)
