"""Popup appeal variants: loading and versioning their copy, exposure imports, the report and its verdict,
and the public endpoints over HTTP."""

import json
import math
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from sqlalchemy import func, select

from conftest import serving, utc, write_csv
from tracker import queries, service
from tracker.appeal_report import report_json
from tracker.appeals import parse_variants
from tracker.dates import zone
from tracker.errors import UsageError
from tracker.ingest.appeals import import_exposures
from tracker.manage import load_appeals
from tracker.models import AppealCopyVersion, AppealDaily, AppealEvent

ROOT = Path(__file__).parent.parent
LA = zone("America/Los_Angeles")

TWO = """
[[variant]]
key = "control"
name = "Countdown"
control = true
share = 0.5
headline = "{days_left} days left"
body = "We have raised {raised} of {goal}."
button = "Donate"

[[variant]]
key = "b"
name = "Join us"
share = 0.5
headline = "Join {donors} readers"
body = "Only {gap} to go before {deadline}."
button = "Join them"

[variant.goal_reached]
body = "Thank you: we passed {goal}."
"""


def load_file(sessions, path, now=utc(2026, 11, 28)):
    with sessions.begin() as session:
        return load_appeals(session, queries.get_campaign(session, "dec-2026"), parse_variants(path), now=now)


def test_loading_the_same_file_twice_changes_nothing_and_new_text_makes_a_new_version(sessions, make_campaign, tmp_path):
    make_campaign()
    first = load_file(sessions, ROOT / "data" / "appeals.toml")
    assert first.created == ["countdown", "join-us", "gap"]
    assert load_file(sessions, ROOT / "data" / "appeals.toml").unchanged == ["countdown", "join-us", "gap"]
    edited = (ROOT / "data" / "appeals.toml").read_text().replace('button = "Close the gap"', 'button = "Close it"')
    (tmp_path / "edited.toml").write_text(edited)
    result = load_file(sessions, tmp_path / "edited.toml", now=utc(2026, 12, 10))
    assert result.new_version == ["gap"] and result.unchanged == ["countdown", "join-us"]
    with sessions.begin() as session:
        versions = session.execute(select(AppealCopyVersion.version, AppealCopyVersion.button)
                                   .order_by(AppealCopyVersion.version)
                                   .where(AppealCopyVersion.button.like("Close%"))).all()
    assert versions == [(1, "Close the gap"), (2, "Close it")]  # the first version's text is kept


@pytest.mark.parametrize("change, words", [
    (("{donors} readers", "{readers} readers"), "variant 'b': unknown placeholder {readers} in its headline"),
    (("control = true\n", ""), "exactly one variant must have control = true (found 0)"),
    (('share = 0.5\nheadline = "Join', 'share = 2\nheadline = "Join'), "variant 'b': share must be a fraction"),
    (('button = "Donate"', 'button = ""'), "variant 'control': 'button' is missing or empty"),
])
def test_bad_appeal_files_are_refused_naming_the_variant_and_the_fix(tmp_path, change, words):
    path = tmp_path / "v.toml"
    path.write_text(TWO.replace(*change))
    with pytest.raises(UsageError) as err:
        parse_variants(path)
    assert words in str(err.value)


def test_the_cli_refuses_an_unknown_placeholder_with_exit_2(tracker, make_campaign, tmp_path):
    make_campaign()
    (tmp_path / "v.toml").write_text(TWO.replace("{gap}", "{gapp}"))
    result = tracker("appeals", "load", tmp_path / "v.toml")
    assert result.code == 2 and "unknown placeholder {gapp} in its body" in result.err
    assert tracker("appeals", "load", ROOT / "data" / "appeals.toml").code == 0


def test_daily_counts_import_again_without_counting_twice_and_corrections_replace(sessions, tmp_path):
    daily = ROOT / "data" / "samples" / "popup_daily.csv"
    first = import_exposures(sessions, daily, tz=LA, clock=lambda: utc(2026, 12, 3))
    again = import_exposures(sessions, daily, tz=LA, clock=lambda: utc(2026, 12, 3))
    assert (first.inserted, again.inserted, again.unchanged) == (6, 0, 6)
    fixed = write_csv(tmp_path / "fix.csv", "date,variant,impressions,clicks\n2026-12-01,gap,10000,330\n")
    assert import_exposures(sessions, fixed, tz=LA, clock=lambda: utc(2026, 12, 4)).replaced == 1
    with sessions.begin() as session:
        stored = session.scalar(select(func.sum(AppealDaily.impressions)))
    in_file = sum(int(line.split(",")[2]) for line in daily.read_text().splitlines()[1:])
    assert stored == in_file - 9975 + 10000  # the corrected day replaced its 9,975, nothing was added twice


def test_events_are_stored_once_and_bad_lines_are_rejected_with_file_and_line(sessions, tmp_path):
    events = ROOT / "data" / "samples" / "popup_events.jsonl"
    assert import_exposures(sessions, events, tz=LA, clock=lambda: utc(2026, 12, 3)).inserted == 6
    assert import_exposures(sessions, events, tz=LA, clock=lambda: utc(2026, 12, 3)).unchanged == 6
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"timestamp": "2026-12-02T10:00:00Z", "variant": "gap", "event": "impression", "reader": "r1"}\n'
                   '{"timestamp": "2026-12-02T10:00:00Z", "variant": "gap", "event": "wave", "reader": "r1"}\n'
                   'not json\n')
    summary = import_exposures(sessions, bad, tz=LA, clock=lambda: utc(2026, 12, 3))
    assert (summary.inserted, summary.rejected) == (1, 2)
    assert [str(e) for e in summary.errors] == [
        f"{bad}:2: event 'wave' is not impression, click or dismiss",
        f"{bad}:3: not valid JSON (Expecting value at column 1)",
    ]
    assert (tmp_path / "bad.rejects.csv").read_text().splitlines()[0] == "line,reason,raw line"
    with sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(AppealEvent)) == 7


# -- the report on constructed data whose answer is known ------------------------------------

def constructed(sessions, make_campaign, tmp_path, *, readers, gifts, shares=(0.5, 0.5), amounts=("50.00", "50.00")):
    """Two variants; `readers`, `gifts` and the gifts' `amounts` per variant (control, b); every gift from its
    own donor."""
    make_campaign()
    (tmp_path / "v.toml").write_text(TWO.replace("share = 0.5", f"share = {shares[0]}", 1)
                                     .replace("share = 0.5", f"share = {shares[1]}", 1))
    load_file(sessions, tmp_path / "v.toml")
    lines = ["date,variant,impressions,clicks,dismissals,readers"]
    for key, n in zip(("control", "b"), readers):
        lines.append(f"2026-12-05,{key},{n * 2},{n // 10},{n},{n}")
    import_exposures(sessions, write_csv(tmp_path / "d.csv", "\n".join(lines) + "\n"), tz=LA, clock=lambda: utc(2026, 12, 6))
    rows = ["donation_id,amount,donated_at,email,appeal_variant"]
    for key, n, amount in zip(("control", "b"), gifts, amounts):
        rows += [f"{key}-{i},{amount},2026-12-05 12:00,{key}{i}@x.org,{key}" for i in range(n)]
    rows.append("direct-1,500.00,2026-12-05 13:00,big@x.org,")
    from tracker.ingest import ImportRequest, RowRules, run_import
    run_import(sessions, ImportRequest(path=write_csv(tmp_path / "g.csv", "\n".join(rows) + "\n"), format="generic"),
               RowRules(source="generic", timezone=LA), clock=lambda: utc(2026, 12, 6))
    with sessions.begin() as session:
        c = queries.get_campaign(session, "dec-2026")
        return report_json(service.appeal_report(session, c, as_of=utc(2026, 12, 10)), c.slug, "2026-12-10")


def test_a_variant_raising_twice_as_much_from_enough_donations_is_the_winner(sessions, make_campaign, tmp_path):
    out = constructed(sessions, make_campaign, tmp_path, readers=(20_000, 20_000), gifts=(150, 300))
    control, b = out["variants"]
    assert (out["unit"], control["key"], b["key"]) == ("reader", "control", "b")
    assert (b["donations"], b["donors"], b["revenue"], b["readers"]) == (300, 300, "15000.00", 20_000)
    assert b["conversion"]["value"] == 0.015 and b["conversion"]["lift"] == 1.0
    assert b["revenue_per_unit"]["value"] == "0.7500" and b["revenue_per_unit"]["lift"] == 1.0
    assert 0 < b["conversion"]["ci_low"] < 1.0 < b["conversion"]["ci_high"]
    assert b["revenue_per_unit"]["sequential_ci_low"] < b["revenue_per_unit"]["ci_low"]  # the always-valid one is wider
    assert b["revenue_per_unit"]["chance_to_beat_control"] > 0.999
    assert out["verdict"] == {**out["verdict"], "label": "winner", "leader": "b", "conclusive": True}
    assert out["no_popup"] == {"donations": 1, "donors": 1, "revenue": "500.00"}


def test_the_same_lift_on_few_donations_is_only_leading(sessions, make_campaign, tmp_path):
    out = constructed(sessions, make_campaign, tmp_path, readers=(2_000, 2_000), gifts=(15, 30))
    assert out["verdict"]["label"] == "leading, not yet conclusive" and out["verdict"]["leader"] == "b"
    assert "at least 100 donations" in out["verdict"]["rule"]


def test_a_traffic_split_that_does_not_match_the_plan_blocks_the_verdict(sessions, make_campaign, tmp_path):
    out = constructed(sessions, make_campaign, tmp_path, readers=(10_000, 11_000), gifts=(150, 300))
    assert out["srm_p"] < 0.001
    assert out["verdict"]["label"] == "sample ratio mismatch: results blocked" and out["verdict"]["leader"] is None


def test_the_report_command_prints_json_and_text(tracker, sessions, make_campaign, tmp_path):
    constructed(sessions, make_campaign, tmp_path, readers=(20_000, 20_000), gifts=(150, 300))
    out = json.loads(tracker("appeals", "report", "--as-of", "2026-12-10", "--json", "--cap", "none").out)
    assert out["cap"] is None and [v["key"] for v in out["variants"]] == ["control", "b"]
    assert set(out["variants"][1]["conversion"]) >= {"value", "lift", "ci_low", "ci_high", "chance_to_beat_control",
                                                     "chance_best"}
    text = tracker("appeals", "report", "--as-of", "2026-12-10")
    assert text.code == 0 and "Verdict: winner (b)" in text.out and "$15,000" in text.out
    assert tracker("appeals", "report", "--cap", "lots").code == 2


def _lift_row(text: str, key: str) -> str:
    """The variant's line in the text report's lift table (the second table)."""
    table = text.split("Lift over the control", 1)[1]
    return next(line for line in table.splitlines() if line.split() and line.split()[0] == key)


def test_each_lift_has_its_own_interval_and_chance_to_beat_the_control(tracker, sessions, make_campaign, tmp_path):
    # b converts more readers (170 vs 150 of 20,000) with smaller gifts ($45 vs $50): the two metrics disagree
    out = constructed(sessions, make_campaign, tmp_path, readers=(20_000, 20_000), gifts=(150, 170),
                      amounts=("50.00", "45.00"))
    b = out["variants"][1]
    n, xc, xv = 20_000, 150, 170
    # conversion, independently: normal posterior of the log ratio of rates with the 0/1 sample variances
    pc, pv = xc / n, xv / n
    s = math.sqrt(sum(p * (1 - p) * n / (n - 1) / (n * p * p) for p in (pc, pv)))
    conv_beat = stats.norm.cdf(math.log(pv / pc) / s)
    assert b["conversion"]["chance_to_beat_control"] == pytest.approx(conv_beat, abs=6e-5)  # JSON rounds to 4 places
    # ... and a Beta-Binomial posterior (flat priors) simulated with a seed agrees: 400,000 draws have a
    # standard error of 0.0005, the normal approximation is 0.0004 away here; tolerance 0.005
    rng = np.random.default_rng(2026)
    beta = np.mean(rng.beta(1 + xv, 1 + n - xv, 400_000) > rng.beta(1 + xc, 1 + n - xc, 400_000))
    assert b["conversion"]["chance_to_beat_control"] == pytest.approx(beta, abs=0.005)
    # revenue per reader, independently from every reader's capped revenue (the cap, $50, changes nothing)
    c_vals = np.array([5000.0] * xc + [0.0] * (n - xc))
    v_vals = np.array([4500.0] * xv + [0.0] * (n - xv))
    s = math.sqrt(sum(a.var(ddof=1) / (n * a.mean() ** 2) for a in (c_vals, v_vals)))
    rev_beat = stats.norm.cdf(math.log(v_vals.mean() / c_vals.mean()) / s)
    assert b["revenue_per_unit"]["chance_to_beat_control"] == pytest.approx(rev_beat, abs=6e-5)
    assert round(conv_beat, 2) == 0.87 and round(rev_beat, 2) == 0.57  # different chances, each its own metric
    z, se = stats.norm.ppf(0.975), math.sqrt(pv * (1 - pv) * n / (n - 1) / (n * pc * pc)
                                           + pc * (1 - pc) * n / (n - 1) * pv ** 2 / (n * pc ** 4))
    assert (b["conversion"]["ci_low"], b["conversion"]["ci_high"]) == pytest.approx(
        (pv / pc - 1 - z * se, pv / pc - 1 + z * se), abs=6e-5)
    assert b["conversion"]["too_few_gifts"] is False and out["min_gifts_per_arm"] == 30

    text = tracker("appeals", "report", "--as-of", "2026-12-10").out
    assert "conversion lift (donors per reader)" in text and "revenue per reader lift" in text
    header = _lift_row(text, "variant")
    assert header.count("P(beat control)") == 2 and header.count("95% interval") == 2 and "P(best)" in header
    cells = _lift_row(text, "b").split()
    assert cells == ["b", "+13.3%", f"{b['conversion']['ci_low']:+.0%}..{b['conversion']['ci_high']:+.0%}", "87%",
                     "+2.0%", f"{b['revenue_per_unit']['ci_low']:+.0%}..{b['revenue_per_unit']['ci_high']:+.0%}",
                     "57%", f"{b['revenue_per_unit']['chance_best']:.0%}"]


def test_the_json_carries_the_holm_corrected_interval_the_verdict_uses(sessions, make_campaign, tmp_path):
    out = constructed(sessions, make_campaign, tmp_path, readers=(20_000, 20_000), gifts=(150, 300))
    control, b = out["variants"]
    assert control["verdict_interval_holm"] is None
    holm = b["verdict_interval_holm"]
    assert set(holm) == {"metric", "lift", "ci_low", "ci_high"} and holm["metric"] == "revenue_per_unit"
    # one variant: Holm's level is the nominal 5%, so it is the always-valid interval, wholly above zero (winner)
    rpu = b["revenue_per_unit"]
    assert (holm["lift"], holm["ci_low"], holm["ci_high"]) == (rpu["lift"], rpu["sequential_ci_low"],
                                                               rpu["sequential_ci_high"])
    assert holm["ci_low"] > 0 and out["verdict"]["label"] == "winner"


def test_with_two_variants_the_verdict_interval_is_widened_to_each_ones_holm_level(sessions, make_campaign, tmp_path):
    make_campaign()
    third = TWO.replace("share = 0.5", "share = 0.34", 1).replace("share = 0.5", "share = 0.33", 1) + (
        '\n[[variant]]\nkey = "c"\nname = "Third"\nshare = 0.33\nheadline = "Help"\nbody = "Please."\n'
        'button = "Give"\n')
    (tmp_path / "v.toml").write_text(third)
    load_file(sessions, tmp_path / "v.toml")
    daily = "date,variant,impressions,readers\n" + "".join(
        f"2026-12-05,{k},{n * 2},{n}\n" for k, n in (("control", 20_400), ("b", 19_800), ("c", 19_800)))
    import_exposures(sessions, write_csv(tmp_path / "d.csv", daily), tz=LA, clock=lambda: utc(2026, 12, 6))
    rows = ["donation_id,amount,donated_at,email,appeal_variant"]
    for key, n in (("control", 150), ("b", 300), ("c", 170)):
        rows += [f"{key}-{i},50.00,2026-12-05 12:00,{key}{i}@x.org,{key}" for i in range(n)]
    from tracker.ingest import ImportRequest, RowRules, run_import
    run_import(sessions, ImportRequest(path=write_csv(tmp_path / "g.csv", "\n".join(rows) + "\n"), format="generic"),
               RowRules(source="generic", timezone=LA), clock=lambda: utc(2026, 12, 6))
    with sessions.begin() as session:
        c = queries.get_campaign(session, "dec-2026")
        out = report_json(service.appeal_report(session, c, as_of=utc(2026, 12, 10)), c.slug, "2026-12-10")
    b, third_arm = out["variants"][1], out["variants"][2]
    # b has the smaller p-value: Holm tests it at 2.5%, so its interval contains and is wider than the 5% one;
    # c is tested second at the full 5%: its verdict interval is its always-valid 5% interval
    hb, rb = b["verdict_interval_holm"], b["revenue_per_unit"]
    assert hb["ci_low"] < rb["sequential_ci_low"] and hb["ci_high"] > rb["sequential_ci_high"] and hb["ci_low"] > 0
    hc, rc = third_arm["verdict_interval_holm"], third_arm["revenue_per_unit"]
    assert (hc["ci_low"], hc["ci_high"]) == (rc["sequential_ci_low"], rc["sequential_ci_high"])
    assert out["verdict"]["label"] == "winner" and out["verdict"]["leader"] == "b"


def test_impressions_label_the_revenue_lift_per_1000_impressions(tracker, sessions, make_campaign, tmp_path):
    make_campaign()
    (tmp_path / "v.toml").write_text(TWO)
    load_file(sessions, tmp_path / "v.toml")
    daily = "date,variant,impressions\n2026-12-05,control,5000\n2026-12-05,b,5000\n"
    import_exposures(sessions, write_csv(tmp_path / "d.csv", daily), tz=LA, clock=lambda: utc(2026, 12, 6))
    text = tracker("appeals", "report", "--as-of", "2026-12-10").out
    assert "revenue per 1,000 impressions lift" in text and "conversion lift (donors per impression)" in text


@pytest.mark.parametrize("gifts, withheld", [((29, 40), True), ((40, 29), True), ((30, 30), False)])
def test_intervals_and_chances_are_withheld_below_30_gifts_in_either_arm(tracker, sessions, make_campaign, tmp_path,
                                                                          gifts, withheld):
    from dashboards.pages import appeals
    from test_pages import text as shown

    out = constructed(sessions, make_campaign, tmp_path, readers=(4_000, 4_000), gifts=gifts)
    b = out["variants"][1]
    for metric in ("conversion", "revenue_per_unit"):
        c = b[metric]
        assert c["too_few_gifts"] is withheld and c["lift"] is not None  # the lift itself is always shown
        fields = [c["ci_low"], c["ci_high"], c["sequential_ci_low"], c["sequential_ci_high"],
                  c["chance_to_beat_control"], c["chance_best"], c["risk"]]
        assert all(x is None for x in fields) if withheld else all(x is not None for x in fields)
    assert (out["variants"][0]["revenue_per_unit"]["chance_best"] is None) is withheld
    row = _lift_row(tracker("appeals", "report", "--as-of", "2026-12-10").out, "b")
    assert row.count("too few gifts") == (5 if withheld else 0)  # two intervals, two chances to beat, P(best)
    with sessions.begin() as session:
        page = shown(appeals.show(session, "dec-2026", utc(2026, 12, 10)))
    assert page.count("too few gifts") == (6 if withheld else 0)  # b's four cells, and both chances to be best
    assert "Conversion lift (donors per reader)" in page and "Revenue per reader lift" in page
    assert "Chance to be best (revenue per reader)" in page


# -- the public endpoints over HTTP ------------------------------------------------------------

@pytest.fixture
def served(sessions):
    from dashboards.app import create_app
    from tracker import demo

    with sessions.begin() as session:
        demo.build(session, now=datetime(2026, 12, 28, 12, tzinfo=LA))
    app = create_app(sessions, as_of=datetime(2026, 12, 28, 12, tzinfo=LA), cors_origins=("https://news.example",))
    with serving(app.server) as url:
        yield url


def get(url, origin=None):
    request = urllib.request.Request(url, headers={"Origin": origin} if origin else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


def test_progress_endpoint_repeats_status_json_and_is_public_cacheable_and_cors(served, sessions):
    status, headers, body = get(f"{served}/api/progress?campaign=dec-2026", origin="https://news.example")
    assert status == 200 and headers["Cache-Control"] == "public, max-age=60"
    assert headers["Access-Control-Allow-Origin"] == "https://news.example"
    with sessions.begin() as session:
        c = queries.get_campaign(session, "dec-2026")
        from tracker.campaign import status_json
        full = status_json(service.campaign_status(session, c, as_of=datetime(2026, 12, 28, 12, tzinfo=LA)))
    progress = json.loads(body)
    matches = progress.pop("matches")
    assert progress == {k: full[k] for k in progress} and {"raised", "goal", "percent", "gap", "deadline",
                                                          "seconds_left", "donors", "match_earned",
                                                          "match_remaining", "raised_with_match"} <= set(progress)
    # each match pool as the status says it, without its counts of gifts and donors
    assert [m["name"] for m in matches] == ["NewsMatch", "Board match"]
    assert matches == [{k: m[k] for k in matches[0]} for m in full["matches"]] and "donors" not in matches[0]
    assert "Access-Control-Allow-Origin" not in get(f"{served}/api/progress", origin="https://evil.example")[1]


def test_appeal_endpoint_fills_the_placeholders_and_carries_no_personal_data(served):
    status, headers, body = get(f"{served}/api/appeal?campaign=dec-2026")
    assert status == 200 and headers["Cache-Control"] == "public, max-age=60"
    variants = json.loads(body)["variants"]
    assert [v["key"] for v in variants] == ["countdown", "gap", "join-us"]
    assert "@" not in body
    assert not any("{" in v[f] or "}" in v[f] for v in variants for f in ("headline", "body", "button"))
    assert variants[0]["headline"] == "Before you go: 3 days left to reach our goal"
    missing = get(f"{served}/api/appeal?campaign=nope")
    assert missing[0] == 404 and json.loads(missing[2]) == {"error": "unknown campaign", "field": "campaign"}


def test_results_are_kept_per_copy_version(sessions, make_campaign, tmp_path):
    constructed(sessions, make_campaign, tmp_path, readers=(20_000, 20_000), gifts=(150, 300))
    (tmp_path / "v2.toml").write_text((tmp_path / "v.toml").read_text().replace("Join them", "Join us today"))
    load_file(sessions, tmp_path / "v2.toml", now=utc(2026, 12, 7))
    rows = ["donation_id,amount,donated_at,email,appeal_variant"] + [
        f"late-{i},20.00,2026-12-08 12:00,late{i}@x.org,b" for i in range(7)]
    from tracker.ingest import ImportRequest, RowRules, run_import
    run_import(sessions, ImportRequest(path=write_csv(tmp_path / "late.csv", "\n".join(rows) + "\n"), format="generic"),
               RowRules(source="generic", timezone=LA), clock=lambda: utc(2026, 12, 9))
    with sessions.begin() as session:
        c = queries.get_campaign(session, "dec-2026")
        out = report_json(service.appeal_report(session, c, as_of=utc(2026, 12, 10)), c.slug, "2026-12-10")
    b = out["variants"][1]
    assert [(v["version"], v["donations"], v["revenue"]) for v in b["versions"]] == [(1, 300, "15000.00"), (2, 7, "140.00")]
    assert b["versions"][0]["readers"] == 20_000 and b["versions"][1]["readers"] == 0  # the daily counts are from Dec 5
    assert b["donations"] == 307


def test_before_anything_is_shown_or_given_no_variant_leads(sessions, make_campaign, tmp_path):
    make_campaign()
    (tmp_path / "v.toml").write_text(TWO)
    load_file(sessions, tmp_path / "v.toml")
    with sessions.begin() as session:
        c = queries.get_campaign(session, "dec-2026")
        out = report_json(service.appeal_report(session, c, as_of=utc(2026, 12, 2)), c.slug, "2026-12-02")
    assert (out["verdict"]["label"], out["verdict"]["leader"]) == ("no results yet", None)
    assert [v["donations"] for v in out["variants"]] == [0, 0] and out["unit"] == "impression"


def test_the_deadline_placeholder_names_the_last_minute_in_the_campaigns_zone(sessions, make_campaign):
    from tracker.appeals import live_values, render

    make_campaign(tz="Asia/Kolkata")
    with sessions.begin() as session:
        c = queries.get_campaign(session, "dec-2026")
        values = live_values(service.campaign_status(session, c, as_of=utc(2026, 12, 31, 12)))
    assert render("Give by {deadline}: {hours_left} hours left", values) == "Give by December 31, 11:59 p.m.: 6 hours left"


# -- copy that cannot amplify, and a public API that says no more than it must -------------------

@pytest.mark.parametrize("placeholder", ["{goal:>99999999}", "{goal!r}", "{raised:,}", "{gap:{days_left}}", "{donors!s:^50}"])
def test_a_placeholder_with_a_format_or_conversion_is_refused_naming_the_variant_and_field(tracker, make_campaign,
                                                                                         tmp_path, placeholder):
    make_campaign()
    path = tmp_path / "v.toml"
    path.write_text(TWO.replace("Only {gap} to go", f"Only {placeholder} to go"))
    result = tracker("appeals", "load", path)
    assert result.code == 2
    name = placeholder[1:].split("!")[0].split(":")[0]
    assert (f"variant 'b': the placeholder {placeholder} in its body has a format or conversion, which copy may "
            f"not use; write {{{name}}}") in result.err
    assert "Traceback" not in result.err and tracker("appeals", "report", "--json").code != 0  # nothing was loaded


def test_copy_stored_with_a_format_spec_is_filled_without_padding(sessions, make_campaign, tmp_path):
    from sqlalchemy import update

    from dashboards.app import create_app
    from tracker.models import AppealVariant

    make_campaign()
    (tmp_path / "v.toml").write_text(TWO)
    load_file(sessions, tmp_path / "v.toml")
    with sessions.begin() as session:  # as an earlier version, which did not check, may have stored it
        session.execute(update(AppealVariant).where(AppealVariant.key == "b").values(body="Only {gap:>200000}!"))
        session.execute(update(AppealCopyVersion).values(body="Only {gap:>200000}!"))
    with serving(create_app(sessions, as_of=utc(2026, 12, 10)).server) as base:
        status, _, body = get(f"{base}/api/appeal?campaign=dec-2026")
    assert status == 200 and len(body) < 2_000
    assert json.loads(body)["variants"][1]["body"] == "Only $400,000!"


def test_a_public_answer_over_64_kb_is_a_500_with_one_line_of_json_and_never_sent(sessions, make_campaign, tmp_path):
    from dashboards.app import create_app

    make_campaign()
    (tmp_path / "v.toml").write_text(TWO.replace("Only {gap} to go before {deadline}.", "Give. " * 12_000))
    load_file(sessions, tmp_path / "v.toml")
    with serving(create_app(sessions, as_of=utc(2026, 12, 10)).server) as base:
        status, headers, body = get(f"{base}/api/appeal?campaign=dec-2026")
        progress = get(f"{base}/api/progress?campaign=dec-2026")
    assert status == 500 and headers["Content-Type"] == "application/json" and headers["Cache-Control"] == "no-store"
    assert len(body) < 300 and body.count("\n") <= 1 and "Give." not in body
    assert "larger than 64 KB" in json.loads(body)["error"]
    assert progress[0] == 200  # a small answer still goes out


@pytest.mark.parametrize("endpoint", ["progress", "appeal"])
def test_the_public_api_says_unknown_campaign_and_nothing_more(served, endpoint):
    status, headers, body = get(f"{served}/api/{endpoint}?campaign=%3Cscript%3Ealert(1)%3C/script%3E")
    assert status == 404 and headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"error": "unknown campaign", "field": "campaign"}
    assert "dec-2026" not in body and "script" not in body and "dec-2025" not in body
