"""The appeal statistics: checked against scipy, known answers, gbstats and a peeking simulation."""
import itertools
import math

import numpy as np
import pytest
from scipy import integrate, stats

from tracker import appeal_stats as st
from tracker.appeal_stats import Arm


def conv(key, units, donations):
    return Arm.conversions(key, units, donations)


# --- Arm ---------------------------------------------------------------------------

def test_an_arm_built_from_gift_values_has_the_mean_and_sample_variance_of_all_its_units():
    rng = np.random.default_rng(1)
    gifts = rng.integers(500, 20000, size=40).tolist()
    arm = Arm.from_values("a", 300, gifts)
    per_unit = np.array(gifts + [0] * 260, dtype=float)
    assert arm.mean == pytest.approx(per_unit.mean())
    assert arm.variance == pytest.approx(per_unit.var(ddof=1))


def test_a_conversion_arm_has_the_sample_variance_of_its_zeros_and_ones():
    arm = conv("a", 1000, 37)
    assert arm.total_sq == arm.total == 37
    assert arm.variance == pytest.approx(np.array([1] * 37 + [0] * 963).var(ddof=1))


def test_an_arm_with_fewer_than_two_units_reports_zero_variance_instead_of_dividing_by_zero():
    assert Arm("a", 1, 500.0, 250000.0).variance == 0.0
    assert Arm("a", 0, 0.0, 0.0).mean == 0.0


def test_an_arm_refuses_more_gift_values_than_units():
    with pytest.raises(ValueError):
        Arm.from_values("a", 1, [100, 200])


# --- fixed-horizon lift ---------------------------------------------------------------

def test_the_delta_method_interval_matches_a_direct_computation_with_scipy():
    rng = np.random.default_rng(7)
    c = rng.lognormal(3, 1, 5000) * (rng.random(5000) < 0.05)
    v = rng.lognormal(3.1, 1, 5200) * (rng.random(5200) < 0.05)
    lift = st.relative_lift(Arm("c", c.size, c.sum(), (c**2).sum()),
                            Arm("v", v.size, v.sum(), (v**2).sum()), alpha=0.1)
    mc, mv = c.mean(), v.mean()
    se = math.sqrt(v.var(ddof=1) / (v.size * mc**2) + c.var(ddof=1) * mv**2 / (c.size * mc**4))
    z = stats.norm.ppf(0.95)
    assert lift.value == pytest.approx(mv / mc - 1, rel=1e-12)
    assert lift.se == pytest.approx(se, rel=1e-12)
    assert (lift.ci_low, lift.ci_high) == pytest.approx((mv / mc - 1 - z * se, mv / mc - 1 + z * se), rel=1e-9)
    assert lift.p_value == pytest.approx(2 * stats.norm.sf(abs(mv / mc - 1) / se), rel=1e-9)


def test_the_lift_is_undefined_rather_than_an_error_when_the_control_has_no_donations_or_units():
    assert st.relative_lift(conv("c", 500, 0), conv("v", 500, 3)) == st.Lift()
    assert st.relative_lift(conv("c", 0, 0), conv("v", 500, 3)).value is None
    assert st.sequential_interval(conv("c", 500, 0), conv("v", 500, 3)).ci_low is None


def test_identical_arms_have_zero_lift_and_an_interval_centred_on_zero():
    lift = st.relative_lift(conv("c", 8000, 400), conv("v", 8000, 400))
    assert lift.value == 0
    assert lift.ci_low == pytest.approx(-lift.ci_high)
    assert lift.p_value == pytest.approx(1.0)


# --- Bayesian ---------------------------------------------------------------------------

def test_chance_to_beat_control_is_the_normal_tail_of_the_log_mean_ratio_computed_with_scipy():
    c, v = conv("c", 12000, 540), conv("v", 11800, 585)
    sd = math.sqrt(c.variance / (c.units * c.mean**2) + v.variance / (v.units * v.mean**2))
    expected = stats.norm.sf(0, loc=math.log(v.mean / c.mean), scale=sd)
    assert st.chance_to_beat_control(c, v) == pytest.approx(expected, rel=1e-9)


def test_identical_arms_have_an_even_chance_and_risks_that_differ_only_by_the_log_normal_skew():
    c, v = conv("c", 8000, 400), conv("v", 8000, 400)
    assert st.chance_to_beat_control(c, v) == pytest.approx(0.5)
    lose_v, lose_c = st.risk(c, v)
    s2 = 2 * c.variance / (c.units * c.mean**2)
    # E[max(0, L)] - E[max(0, -L)] = E[L] = exp(s^2 / 2) - 1 for a log-normal lift
    assert lose_c - lose_v == pytest.approx(math.expm1(s2 / 2), rel=1e-6)
    assert lose_v == pytest.approx(math.sqrt(s2 / (2 * math.pi)), rel=0.05)


def test_risk_is_the_expected_loss_under_the_log_normal_posterior_by_numerical_integration():
    c, v = Arm.from_values("c", 4000, [2500.0] * 150), Arm.from_values("v", 4000, [2500.0] * 170)
    c = Arm("c", 4000, c.total, c.total_sq * 3)  # make per-unit values spread out
    m = math.log(v.mean / c.mean)
    s = math.sqrt(c.variance / (c.units * c.mean**2) + v.variance / (v.units * v.mean**2))
    dens = stats.norm(m, s).pdf
    loss_v = integrate.quad(lambda d: max(0.0, 1 - math.exp(d)) * dens(d), m - 12 * s, m + 12 * s, points=[0])[0]
    loss_c = integrate.quad(lambda d: max(0.0, math.exp(d) - 1) * dens(d), m - 12 * s, m + 12 * s, points=[0])[0]
    assert st.risk(c, v) == pytest.approx((loss_v, loss_c), rel=1e-6)


def test_a_variant_without_donations_has_a_certain_full_loss_and_little_chance_to_beat_control():
    c, v = conv("c", 3000, 30), conv("v", 3000, 0)
    assert st.risk(c, v) == (1.0, 0.0)
    assert st.risk(conv("c", 3000, 0), v) is None
    # raw-scale fallback: P(N(0 - 0.01, var_c / n_c) > 0)
    assert st.chance_to_beat_control(c, v) == pytest.approx(
        stats.norm.sf(0, loc=-c.mean, scale=math.sqrt(c.variance / c.units)), rel=1e-9)


def test_chance_best_is_deterministic_sums_to_one_and_agrees_with_chance_to_beat_for_two_arms():
    c, v = conv("c", 9000, 450), conv("v", 9000, 480)
    best = st.chance_best([c, v], seed=3)
    assert best == st.chance_best([c, v], seed=3)
    assert sum(best.values()) == pytest.approx(1.0)
    assert best["v"] == pytest.approx(st.chance_to_beat_control(c, v), abs=0.015)


def test_identical_arms_have_about_equal_chances_to_be_best():
    best = st.chance_best([conv(k, 8000, 400) for k in "abc"])
    assert all(abs(p - 1 / 3) < 0.02 for p in best.values())


def test_arms_that_cannot_be_told_apart_share_the_chance_to_be_best():
    assert st.chance_best([conv("a", 50, 50), conv("b", 80, 80), conv("c", 80, 0)]) == {
        "a": 0.5, "b": 0.5, "c": 0.0}


def test_an_arm_without_units_never_counts_as_best():
    best = st.chance_best([conv("a", 1000, 50), conv("b", 0, 0)])
    assert best == {"a": 1.0, "b": 0.0}


# --- SRM --------------------------------------------------------------------------------

@pytest.mark.parametrize("units, shares", [
    ([10000, 11000], [0.5, 0.5]),
    ([5000, 5050], [0.5, 0.5]),
    ([5003, 4997], [0.5, 0.5]),
    ([3300, 3400, 3250], [1, 1, 1]),
    ([2500, 2450, 2600, 4800], [0.2, 0.2, 0.2, 0.4]),
    ([9000, 10000, 11000, 12000], [1, 1, 1, 1]),
    ([120, 80], [0.5, 0.5]),
    ([400000, 420000], [0.5, 0.5]),
])
def test_srm_p_value_matches_scipy_chisquare(units, shares):
    expected_counts = np.array(shares) / sum(shares) * sum(units)
    reference = stats.chisquare(units, expected_counts).pvalue
    assert st.srm_p_value(units, shares) == pytest.approx(reference, rel=1e-8, abs=1e-300)


def test_srm_p_value_normalises_shares_that_do_not_sum_to_one():
    assert st.srm_p_value([3000, 3100, 2900], [0.33, 0.33, 0.33]) == pytest.approx(
        st.srm_p_value([3000, 3100, 2900], [1, 1, 1]), rel=1e-12)


def test_a_ten_percent_imbalance_on_a_fifty_fifty_split_is_a_sample_ratio_mismatch():
    assert st.srm_p_value([10000, 11000], [0.5, 0.5]) < st.SRM_THRESHOLD
    assert st.srm_p_value([10000, 10100], [0.5, 0.5]) > st.SRM_THRESHOLD


def test_srm_edge_cases_have_sensible_answers():
    assert st.srm_p_value([0, 0], [0.5, 0.5]) == 1.0
    assert st.srm_p_value([100, 5], [1, 0]) == 0.0
    assert st.srm_p_value([100, 0, 90], [1, 0, 1]) == pytest.approx(stats.chisquare([100, 90]).pvalue)
    with pytest.raises(ValueError):
        st.srm_p_value([1, 2], [1.0])


# --- Holm -------------------------------------------------------------------------------

def test_holm_reproduces_the_textbook_example():
    # Holm-Bonferroni example (Wikipedia): p = 0.01, 0.04, 0.03, 0.005 at alpha 0.05
    # rejects H1 and H4 only.
    adjusted = st.holm({"H1": 0.01, "H2": 0.04, "H3": 0.03, "H4": 0.005})
    assert adjusted == pytest.approx({"H1": 0.03, "H2": 0.06, "H3": 0.06, "H4": 0.02})
    assert {k for k, p in adjusted.items() if p <= 0.05} == {"H1", "H4"}


def test_holm_agrees_with_closed_testing_of_bonferroni_intersections():
    rng = np.random.default_rng(11)
    for _ in range(30):
        p = {f"v{i}": float(x) for i, x in enumerate(rng.beta(0.5, 3, size=rng.integers(1, 6)))}
        closed = {k: max(min(1.0, len(s) * min(p[j] for j in s))
                         for r in range(1, len(p) + 1) for s in itertools.combinations(p, r) if k in s)
                  for k in p}
        assert st.holm(p) == pytest.approx(closed)


def test_holm_alphas_give_the_smallest_p_value_the_strictest_level():
    assert st.holm_alphas({"a": 0.03, "b": 0.001, "c": 0.2}, 0.06) == pytest.approx(
        {"b": 0.02, "a": 0.03, "c": 0.06})


# --- winsorizing ------------------------------------------------------------------------

def test_the_winsorizing_cap_is_the_nearest_rank_quantile():
    assert st.winsorize_cap(list(range(1, 101)), 0.99) == 99
    assert st.winsorize_cap([500, 100, 300], 0.5) == 300
    assert st.winsorize_cap([], 0.99) is None
    rng = np.random.default_rng(5)
    gifts = rng.integers(100, 1_000_000, size=777)
    for q in (0.9, 0.95, 0.99, 1.0):
        assert st.winsorize_cap(gifts.tolist(), q) == int(np.percentile(gifts, q * 100, method="inverted_cdf"))


def test_applying_the_cap_only_lowers_gifts_above_it():
    assert st.apply_cap([100, 5000, 250000], 5000) == [100, 5000, 5000]
    assert st.apply_cap([100, 250000], None) == [100, 250000]


# --- sequential -------------------------------------------------------------------------

def test_the_sequential_interval_is_wider_than_and_contains_the_fixed_horizon_interval():
    for units in (500, 5000, 50000, 500000):
        c, v = conv("c", units, units // 20), conv("v", units, units * 11 // 200)
        fixed, seq = st.relative_lift(c, v), st.sequential_interval(c, v)
        assert seq.value == fixed.value
        assert seq.ci_low < fixed.ci_low < fixed.ci_high < seq.ci_high
        assert seq.p_value > fixed.p_value


def test_the_always_valid_p_value_is_below_alpha_exactly_when_the_interval_excludes_zero():
    rho = st.sequential_rho(0.05)
    for extra in range(0, 200, 7):
        c, v = conv("c", 20000, 1000), conv("v", 20000, 1000 + extra)
        for level in (0.05, 0.025, 0.0167):
            iv = st.sequential_interval(c, v, level, rho=rho)
            assert (iv.p_value < level) == (iv.ci_low > 0 or iv.ci_high < 0)


def test_the_sequential_interval_and_p_value_match_numbers_computed_by_gbstats():
    # gbstats 0.8.0 SequentialTwoSidedTTest, SampleMeanStatistic, alpha 0.05, tuning 5000
    iv = st.sequential_interval(conv("c", 20000, 1000), conv("v", 20000, 1150))
    assert (iv.ci_low, iv.ci_high) == pytest.approx((-0.005395651235374804, 0.3053956512353748), rel=1e-9)
    assert iv.p_value == pytest.approx(0.0707112512918355, rel=1e-9)
    iv = st.sequential_interval(Arm("c", 3000, 3.1e6, 4.1e10), Arm("v", 3100, 3.55e6, 5.2e10))
    assert (iv.ci_low, iv.ci_high) == pytest.approx((-0.18786769266736422, 0.40430889974332707), rel=1e-9)
    assert st.srm_p_value([10000, 11000], [0.5, 0.5]) == pytest.approx(5.176309056990159e-12, rel=1e-9)


def test_under_no_difference_peeking_rarely_crosses_zero_with_the_sequential_interval():
    rng = np.random.default_rng(20241201)
    runs, looks, batch, rate = 400, 20, 500, 0.05
    conv_c = rng.binomial(batch, rate, size=(runs, looks)).cumsum(axis=1)
    conv_v = rng.binomial(batch, rate, size=(runs, looks)).cumsum(axis=1)
    fixed_hits = seq_hits = 0
    for r in range(runs):
        fixed_crossed = seq_crossed = False
        for t in range(looks):
            n = batch * (t + 1)
            c, v = conv("c", n, int(conv_c[r, t])), conv("v", n, int(conv_v[r, t]))
            f, s = st.relative_lift(c, v), st.sequential_interval(c, v)
            fixed_crossed |= f.ci_low > 0 or f.ci_high < 0
            seq_crossed |= s.ci_low > 0 or s.ci_high < 0
        fixed_hits += fixed_crossed
        seq_hits += seq_crossed
    assert seq_hits / runs <= 0.05
    assert fixed_hits / runs >= 0.10
    assert fixed_hits > 3 * max(seq_hits, 1)


# --- verdict ----------------------------------------------------------------------------

def test_a_clearly_better_variant_with_large_samples_is_the_winner():
    v = st.verdict([conv("control", 60000, 3000), conv("urgent", 60000, 3600)], control="control", srm_p=0.6)
    assert (v.label, v.leader, v.conclusive) == ("winner", "urgent", True)
    assert v.intervals["urgent"].ci_low > 0


def test_the_same_effect_on_tiny_samples_is_leading_not_yet_conclusive():
    v = st.verdict([conv("control", 600, 30), conv("urgent", 600, 36)], control="control", srm_p=0.6)
    assert (v.label, v.leader, v.conclusive) == ("leading, not yet conclusive", "urgent", False)


def test_a_sample_ratio_mismatch_blocks_the_results_however_strong_they_look():
    units = [10000, 11000]
    v = st.verdict([conv("control", 10000, 500), conv("urgent", 11000, 1100)], control="control",
                   srm_p=st.srm_p_value(units, [0.5, 0.5]))
    assert (v.label, v.leader, v.conclusive) == ("sample ratio mismatch: results blocked", None, False)


def test_a_significant_variant_is_not_a_winner_until_every_arm_has_enough_donations():
    arms = [Arm.from_values("control", 30000, [2000.0] * 90), Arm.from_values("urgent", 30000, [5000.0] * 95)]
    arms = [Arm(a.key, a.units, a.total, a.total_sq * 1.5) for a in arms]
    assert st.sequential_interval(*arms).ci_low > 0
    v = st.verdict(arms, control="control", donations={"control": 90, "urgent": 95})
    assert (v.label, v.leader) == ("leading, not yet conclusive", "urgent")
    v = st.verdict(arms, control="control", donations={"control": 90, "urgent": 95}, min_donations=90)
    assert (v.label, v.leader) == ("winner", "urgent")


def test_the_control_wins_when_every_variant_is_significantly_worse():
    arms = [conv("control", 60000, 3600), conv("a", 60000, 3000), conv("b", 60000, 2900)]
    v = st.verdict(arms, control="control")
    assert (v.label, v.leader, v.conclusive) == ("winner", "control", True)


def test_one_worse_and_one_undecided_variant_leave_the_result_open():
    arms = [conv("control", 60000, 3000), conv("a", 60000, 2500), conv("b", 60000, 3050)]
    v = st.verdict(arms, control="control")
    assert v.label == "leading, not yet conclusive" and not v.conclusive
    assert v.leader == max(v.chance_best, key=v.chance_best.get)


def test_holm_correction_can_withhold_a_win_that_a_single_comparison_would_grant():
    c, a = conv("control", 40000, 2000), conv("a", 40000, 2235)
    assert st.verdict([c, a], control="control").label == "winner"
    others = [conv(k, 40000, 2000) for k in ("b", "c", "d")]
    assert st.verdict([c, a, *others], control="control").label == "leading, not yet conclusive"


def test_the_rule_states_the_thresholds_in_plain_words():
    v = st.verdict([conv("control", 100, 5), conv("a", 100, 6)], control="control", min_donations=250)
    assert "250 donations" in v.rule and "95%" in v.rule and "Holm" in v.rule


def test_verdict_requires_the_control_among_the_arms():
    with pytest.raises(ValueError):
        st.verdict([conv("a", 10, 1), conv("b", 10, 1)], control="control")


def test_a_control_short_of_donations_keeps_the_result_open():
    arms = [conv("control", 3000, 60), conv("a", 3000, 200)]
    assert st.sequential_interval(*arms).ci_low > 0
    assert st.verdict(arms, control="control").label == "leading, not yet conclusive"
    assert st.verdict(arms, control="control", min_donations=60).label == "winner"


def test_holm_step_down_stops_at_the_first_variant_that_is_not_significant():
    # always-valid p about 0.032 and 0.040: Holm levels 0.025 then 0.05, so neither wins
    # although the second one's interval at its own level excludes zero
    arms = [conv("control", 40000, 2000), conv("a", 40000, 2230), conv("b", 40000, 2226)]
    v = st.verdict(arms, control="control")
    assert v.intervals["b"].ci_low > 0
    assert v.label == "leading, not yet conclusive"


def test_the_reported_intervals_are_widened_to_each_variants_holm_level():
    c, a, b = conv("control", 40000, 2000), conv("a", 40000, 2300), conv("b", 40000, 2050)
    v = st.verdict([c, a, b], control="control")
    rho = st.sequential_rho(0.05)
    assert v.intervals["a"] == st.sequential_interval(c, a, 0.025, rho=rho)
    assert v.intervals["b"] == st.sequential_interval(c, b, 0.05, rho=rho)


def test_with_no_data_yet_the_control_is_shown_as_leading():
    arms = [conv("a", 0, 0), conv("control", 0, 0), conv("b", 0, 0)]
    v = st.verdict(arms, control="control")
    assert (v.label, v.leader) == ("leading, not yet conclusive", "control")
    assert st.chance_to_beat_control(conv("control", 1, 0), conv("a", 1, 1)) == 0.5


def test_of_several_winning_variants_the_one_most_likely_best_is_named():
    arms = [conv("control", 60000, 3000), conv("good", 60000, 3500), conv("better", 60000, 3800)]
    v = st.verdict(arms, control="control")
    assert v.intervals["good"].ci_low > 0 and v.intervals["better"].ci_low > 0
    assert (v.label, v.leader) == ("winner", "better")
