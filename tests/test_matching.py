"""Matching funds: the rules of tracker.matching at every edge (table-driven), then the same figures through the
database on SQLite and PostgreSQL, the CLI, status and its JSON."""

import json
from datetime import timedelta
from fractions import Fraction

import pytest

from tracker.matching import Gift, MatchSummary, Pool, Terms, match, match_pool, parse_ratio, ratio_text, with_terms

from conftest import utc, write_csv

START, END = utc(2026, 11, 1, 7), utc(2027, 1, 1, 8)  # NewsMatch: November 1 to December 31, Los Angeles
AS_OF = utc(2027, 1, 15)


def pool(ratio="1", cap=15_000_00, per_donor=1_000_00, multiplier=1, pid=1, name="NewsMatch", **extra) -> Pool:
    terms = Terms(Fraction(ratio), cap, per_donor, multiplier)
    return Pool(id=pid, name=name, starts_at=extra.pop("starts_at", START), ends_at=extra.pop("ends_at", END),
                terms=((None, terms),), **extra)


def gift(gid, day, cents, donor=None, hour=12, **extra) -> Gift:
    return Gift(id=gid, donated_at=utc(2026, 12, day, hour), donor_id=donor if donor is not None else gid, cents=cents,
                **extra)


# (what it shows, the pool, the gifts, each gift's match in cents by id)
CASES = [
    ("a gift that crosses the per-donor cap gets what is left of it",
     pool(), [gift(1, 2, 600_00, donor=7), gift(2, 3, 600_00, donor=7)], {1: 600_00, 2: 400_00}),
    ("a donor at the per-donor cap gets nothing more; another donor still does",
     pool(), [gift(1, 2, 1_000_00, donor=7), gift(2, 3, 50_00, donor=7), gift(3, 4, 50_00, donor=8)],
     {1: 1_000_00, 3: 50_00}),
    ("a gift that crosses the pool cap gets what is left of it, the next gets nothing",
     pool(cap=1_000_00, per_donor=None), [gift(1, 2, 700_00), gift(2, 3, 500_00), gift(3, 4, 100_00)],
     {1: 700_00, 2: 300_00}),
    ("crossing the pool cap is exact to the cent",
     pool(cap=15_000_00, per_donor=None), [gift(1, 2, 14_999_99), gift(2, 3, 5_00)], {1: 14_999_99, 2: 1}),
    ("a refund after the pool is exhausted gives its match to the later gift the cap had left short",
     pool(cap=1_000_00, per_donor=None), [gift(1, 2, 0), gift(2, 3, 500_00), gift(3, 4, 800_00)],
     {2: 500_00, 3: 500_00}),
    ("a partial refund after the pool is exhausted releases only what it took back",
     pool(cap=1_000_00, per_donor=None), [gift(1, 2, 400_00), gift(2, 3, 500_00), gift(3, 4, 800_00)],
     {1: 400_00, 2: 500_00, 3: 100_00}),
    ("a refund gives back room under the per-donor cap too",
     pool(), [gift(1, 2, 0, donor=7), gift(2, 3, 900_00, donor=7)], {2: 900_00}),
    ("the cap is used up in donation order, then by gift id",
     pool(cap=100_00, per_donor=None), [gift(2, 2, 100_00), gift(1, 2, 100_00), gift(0, 3, 100_00)], {1: 100_00}),
    ("a ratio of 2 doubles the match, then the per-donor cap applies to the match",
     pool(ratio="2"), [gift(1, 2, 300_00, donor=7), gift(2, 3, 300_00, donor=7)], {1: 600_00, 2: 400_00}),
    ("a fractional ratio rounds each gift once, half to even",
     pool(ratio="0.5", per_donor=None), [gift(1, 2, 1), gift(2, 3, 3), gift(3, 4, 5), gift(4, 5, 101)],
     {2: 2, 3: 2, 4: 50}),
    ("a new monthly donor's first gift counts twelve times, capped per donor; later installments count nothing",
     pool(multiplier=12), [gift(1, 2, 50_00, donor=7, recurring=True, first_recurring_at=utc(2026, 12, 2, 12),
                                first_recurring_id=1),
                           gift(2, 20, 50_00, donor=7, recurring=True, first_recurring_at=utc(2026, 12, 2, 12),
                                first_recurring_id=1),
                           gift(3, 21, 100_00, donor=7)],
     {1: 600_00, 3: 100_00}),
    ("twelve times a large monthly gift stops at the per-donor cap",
     pool(multiplier=12), [gift(1, 2, 100_00, recurring=True, first_recurring_at=utc(2026, 12, 2, 12),
                                first_recurring_id=1)], {1: 1_000_00}),
    ("a monthly donor from before the pool counts each installment as it is",
     pool(multiplier=12), [gift(1, 2, 50_00, donor=7, recurring=True, first_recurring_at=utc(2025, 6, 1),
                                first_recurring_id=99)], {1: 50_00}),
    ("without a multiplier a first monthly gift counts once",
     pool(), [gift(1, 2, 50_00, recurring=True, first_recurring_at=utc(2026, 12, 2, 12), first_recurring_id=1)],
     {1: 50_00}),
    ("excluded methods are not matched; a gift whose method is unknown is",
     pool(exclude_methods=frozenset({"cash", "in_kind"})),
     [gift(1, 2, 100_00, method="cash"), gift(2, 3, 100_00, method="in_kind"), gift(3, 4, 100_00, method="check"),
      gift(4, 5, 100_00)], {3: 100_00, 4: 100_00}),
    ("new donors only: a donor whose first gift ever is in the pool's window",
     pool(new_donors_only=True), [gift(1, 2, 100_00, donor_first_gift_at=utc(2026, 12, 2, 12)),
                                  gift(2, 3, 100_00, donor_first_gift_at=utc(2024, 12, 3)),
                                  gift(3, 4, 100_00, donor_first_gift_at=None)], {1: 100_00}),
    ("the window is half-open: a gift at its first instant counts, at its end does not",
     pool(per_donor=None), [Gift(1, START, 1, 100_00), Gift(2, END - timedelta(microseconds=1), 2, 100_00),
                            Gift(3, END, 3, 100_00), Gift(4, START - timedelta(seconds=1), 4, 100_00)],
     {1: 100_00, 2: 100_00}),
]


@pytest.mark.parametrize("pool_, gifts, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_matching_rules(pool_, gifts, expected):
    result = match_pool(pool_, gifts, AS_OF)
    assert result.per_gift == expected
    assert result.earned_cents == sum(expected.values())
    assert result.remaining_cents == max(0, pool_.terms_at(AS_OF).cap_cents - sum(expected.values()))


def test_gifts_after_as_of_are_not_matched_and_as_of_itself_is():
    p = pool(per_donor=None)
    at = utc(2026, 12, 5, 12)
    result = match_pool(p, [Gift(1, at, 1, 100_00), Gift(2, at + timedelta(microseconds=1), 2, 100_00)], at)
    assert result.per_gift == {1: 100_00}


def test_two_pools_on_one_gift_each_match_it_on_their_own():
    newsmatch = pool(cap=1_000_00, per_donor=None)
    board = pool(ratio="1", cap=200_00, per_donor=None, pid=2, name="Board",
                 starts_at=utc(2026, 12, 15, 20), ends_at=utc(2026, 12, 16, 8))  # one evening, Los Angeles
    evening = Gift(1, utc(2026, 12, 16, 3), 1, 300_00)
    morning = Gift(2, utc(2026, 12, 16, 9), 2, 300_00)
    results = match([newsmatch, board], [evening, morning], AS_OF)
    assert [r.per_gift for r in results] == [{1: 300_00, 2: 300_00}, {1: 200_00}]
    summary = MatchSummary(tuple(results), utc(2026, 12, 16, 4))
    assert summary.earned_cents == 800_00 and summary.live_ratio == 1  # the board pool is exhausted: NewsMatch only


def test_a_cap_raised_on_december_1_applies_to_gifts_from_then_and_an_exhausted_november_stays_so():
    p = with_terms(pool(cap=1_000_00, per_donor=None), utc(2026, 12, 1, 8), cap_cents=1_500_00)
    gifts = [Gift(1, utc(2026, 11, 20), 1, 1_000_00), Gift(2, utc(2026, 11, 25), 2, 100_00),
             Gift(3, utc(2026, 12, 2), 3, 800_00)]
    assert match_pool(p, gifts, utc(2026, 11, 30)).per_gift == {1: 1_000_00}
    assert match_pool(p, gifts, utc(2026, 11, 30)).remaining_cents == 0
    later = match_pool(p, gifts, AS_OF)
    assert later.per_gift == {1: 1_000_00, 3: 500_00} and later.remaining_cents == 0 and later.cap_cents == 1_500_00


def test_pending_is_earned_less_received_and_received_follows_its_date():
    p = pool(per_donor=None)
    p = Pool(**{**p.__dict__, "received": ((None, 0), (utc(2027, 1, 10), 60_00))})
    gifts = [Gift(1, utc(2026, 12, 2), 1, 100_00)]
    assert (match_pool(p, gifts, utc(2027, 1, 9)).received_cents, match_pool(p, gifts, utc(2027, 1, 9)).pending_cents) \
        == (0, 100_00)
    assert match_pool(p, gifts, AS_OF).pending_cents == 40_00


@pytest.mark.parametrize("text, stored, shown", [("1", "1", "1:1"), ("2:1", "2", "2:1"), ("0.50", "0.5", "0.5:1"),
                                                 (" 1.25 ", "1.25", "1.25:1")])
def test_a_ratio_is_read_as_a_decimal_and_said_as_a_ratio(text, stored, shown):
    assert parse_ratio(text) == stored and ratio_text(stored) == shown


@pytest.mark.parametrize("text", ["0", "-1", "abc", "101", "0.00001", "nan", ""])
def test_a_bad_ratio_is_refused_with_what_to_write(text):
    from tracker.errors import ValueProblem

    with pytest.raises(ValueProblem, match="ratio"):
        parse_ratio(text)


# -- through the database, on SQLite and PostgreSQL ------------------------------------------------

GIFTS = """
    donation_id,donated_at,amount,email,recurring,status,refunded_amount
    n1,2026-11-15T10:00:00-08:00,500,a@example.org,false,succeeded,
    d1,2026-12-02T10:00:00-08:00,800,a@example.org,false,succeeded,
    d2,2026-12-03T10:00:00-08:00,50,b@example.org,true,succeeded,
    d3,2026-12-20T10:00:00-08:00,50,b@example.org,true,succeeded,
    d4,2026-12-04T10:00:00-08:00,2000,c@example.org,false,succeeded,
    d5,2026-12-05T10:00:00-08:00,700,e@example.org,false,succeeded,
    d6,2026-12-05T10:00:00-08:00,300.01,f@example.org,false,succeeded,
"""


@pytest.fixture
def newsmatch(tracker, tmp_path):
    assert tracker("campaign", "create", "--slug", "dec-2026", "--name", "Year-end", "--goal", "10000",
                   "--start", "2026-12-01", "--end", "2026-12-31", "--timezone", "America/Los_Angeles").code == 0
    assert tracker("ingest", "donations", write_csv(tmp_path / "gifts.csv", GIFTS)).code == 0
    done = tracker("match", "add", "--campaign", "dec-2026", "--name", "NewsMatch", "--ratio", "1", "--per-donor-cap",
                   "1000", "--cap", "3000", "--from", "2026-11-01", "--to", "2026-12-31", "--recurring-multiplier",
                   "12", "--exclude-methods", "cash,in_kind", "--as-of", "2026-11-01T00:00")
    assert done.code == 0, done.err
    return tmp_path


def status_json(tracker, as_of="2026-12-28T12:00"):
    done = tracker("status", "--campaign", "dec-2026", "--as-of", as_of, "--json")
    assert done.code == 0, done.err
    return json.loads(done.out)


def test_status_json_carries_the_match_to_the_cent_as_a_gift_crosses_the_cap(tracker, newsmatch):
    # n1 500 (November: uses the cap, not in raised), d1 500 of 800 (a@ at $1,000), d2 600 (12 x $50), d4 1,000
    # (per donor), d5 and d6 at the same minute: d5 (id 6) first takes 400 of what is left, d6 nothing
    d = status_json(tracker)
    assert d["raised"] == "3900.01"
    assert (d["match_earned"], d["match_remaining"], d["raised_with_match"]) == ("3000.00", "0.00", "6900.01")
    pool_ = d["matches"][0]
    assert (pool_["name"], pool_["ratio"], pool_["earned"], pool_["remaining"], pool_["used_percent"],
            pool_["gifts"], pool_["donors"]) == ("NewsMatch", "1:1", "3000.00", "0.00", 100, 5, 4)
    assert (d["match_received"], d["match_pending"], d["goal_counts"], d["progress"]) == \
        ("0.00", "3000.00", "raised", "3900.01")
    assert d["percent"] == 39.0 and d["gap"] == "6099.99"


def test_a_refund_after_the_pool_is_exhausted_releases_its_match_to_the_next_gift(tracker, newsmatch):
    refund = """
        donation_id,donated_at,amount,email,recurring,status,refunded_amount
        d4,2026-12-04T10:00:00-08:00,2000,c@example.org,false,partially_refunded,1500
    """
    assert tracker("ingest", "donations", write_csv(newsmatch / "refund.csv", refund)).code == 0
    d = status_json(tracker)
    # d4 now counts 500: its 500 of match back in the pool goes to d5 (all of its 700) and d6 (200 of 300.01)
    assert (d["raised"], d["match_earned"], d["match_remaining"]) == ("2400.01", "3000.00", "0.00")
    assert [d["matches"][0]["gifts"], d["matches"][0]["donors"]] == [6, 5]  # d6 is matched now


def test_a_cap_raised_later_applies_from_its_date(tracker, newsmatch):
    done = tracker("match", "edit", "NewsMatch", "--campaign", "dec-2026", "--cap", "5000", "--on", "2026-12-05")
    assert done.code == 0, done.err
    assert "cap $3,000.00 -> $5,000.00 from 2026-12-05T00:00:00-08:00" in done.out
    before = status_json(tracker, "2026-12-04T23:00")
    assert (before["match_earned"], before["matches"][0]["cap"]) == ("2600.00", "3000.00")
    d = status_json(tracker)
    # d5 700 and d6 300.01 on Dec 5 fit under the new cap whole
    assert (d["match_earned"], d["match_remaining"], d["matches"][0]["cap"]) == ("3600.01", "1399.99", "5000.00")
    listed = tracker("match", "list", "--campaign", "dec-2026", "--json", "--as-of", "2026-12-28T12:00")
    pools = json.loads(listed.out)["pools"]
    assert [(c["field"], c["old"], c["new"]) for c in pools[0]["changes"]] == [("cap_cents", "300000", "500000")]


def test_received_match_and_a_goal_that_counts_it(tracker, newsmatch):
    assert tracker("campaign", "edit", "dec-2026", "--goal-counts", "with_received_match").code == 0
    done = tracker("match", "receive", "NewsMatch", "--campaign", "dec-2026", "--amount", "1000", "--on", "2027-01-10")
    assert done.code == 0, done.err
    before = status_json(tracker, "2027-01-09T12:00")
    assert (before["match_received"], before["progress"], before["percent"]) == ("0.00", "3900.01", 39.0)
    d = status_json(tracker, "2027-01-15T12:00")
    assert (d["match_received"], d["match_pending"], d["progress"], d["percent"], d["gap"]) == \
        ("1000.00", "2000.00", "4900.01", 49.0, "5099.99")
    assert tracker("campaign", "edit", "dec-2026", "--goal-counts", "with_match").code == 0
    d = status_json(tracker, "2027-01-15T12:00")
    assert (d["progress"], d["percent"]) == ("6900.01", 69.0)
    assert [(c["field"], c["new"]) for c in d["changes"]] == [("goal_counts", "with_received_match"),
                                                              ("goal_counts", "with_match")]
    assert d["changes"][-1]["text"].startswith(
        "goal progress counts raised and the match earned (was raised and the match received) on ")
    text = tracker("status", "--campaign", "dec-2026", "--as-of", "2027-01-15T12:00").out
    assert "counting the match earned: $6,900.01 of $10,000.00 (69.00%)" in text
    assert "NewsMatch 1:1: $3,000.00 earned of $3,000.00 (exhausted; $1,000.00 received, $2,000.00 pending)" in text


def test_a_cash_gift_is_not_matched_and_an_in_kind_one_neither(tracker, newsmatch):
    for method in ("cash", "in_kind", "check"):
        done = tracker("gift", "add", "--amount", "100", "--donated-at", "2026-11-20", "--donor-email",
                       f"{method}@example.org", "--method", method)
        assert done.code == 0, done.err
    d = status_json(tracker, "2026-11-30T12:00")
    assert d["match_earned"] == "600.00"  # n1 500 and the check


def test_match_commands_refuse_bad_input_with_the_fix(tracker, newsmatch):
    again = tracker("match", "add", "--name", "newsmatch", "--cap", "10")
    assert again.code == 2 and "has a match pool named 'newsmatch' already" in again.err
    bad = tracker("match", "add", "--name", "Board", "--cap", "10", "--exclude-methods", "cash,bitcoin")
    assert bad.code == 2 and "bitcoin is not a payment method" in bad.err
    bad = tracker("match", "add", "--name", "Board", "--cap", "10", "--ratio", "zero")
    assert bad.code == 2 and "--ratio: ratio 'zero'" in bad.err
    bad = tracker("match", "add", "--name", "Board", "--cap", "10", "--window-start", "2026-12-15T20:00",
                  "--window-end", "2026-12-15T19:00")
    assert bad.code == 2 and "ends before it starts" in bad.err
    missing = tracker("match", "edit", "Nope", "--cap", "1")
    assert missing.code == 2 and "no match pool 'Nope' on dec-2026 (pools: NewsMatch)" in missing.err
    assert tracker("match", "edit", "NewsMatch", "--cap", "5000", "--on", "2026-12-10").code == 0
    earlier = tracker("match", "edit", "NewsMatch", "--cap", "6000", "--on", "2026-12-09")
    assert earlier.code == 2 and "cannot be dated before it" in earlier.err
    same = tracker("match", "edit", "NewsMatch", "--cap", "5000")
    assert same.code == 0 and "nothing changed" in same.out
    assert "Traceback" not in again.err + bad.err + missing.err + earlier.err


def test_a_one_evening_board_match_beside_newsmatch_and_its_removal(tracker, newsmatch):
    done = tracker("match", "add", "--name", "Board", "--cap", "500", "--ratio", "1", "--window-start",
                   "2026-12-05T00:00", "--window-end", "2026-12-06T00:00")
    assert done.code == 0, done.err
    d = status_json(tracker)
    board = d["matches"][1]
    assert (board["name"], board["earned"], board["remaining"]) == ("Board", "500.00", "0.00")
    assert d["match_earned"] == "3500.00"  # d5 earns from both pools
    removed = tracker("match", "remove", "Board")
    assert removed.code == 0 and "match pool Board removed" in removed.out
    assert status_json(tracker)["match_earned"] == "3000.00"
    audit = tracker("audit", "list").out
    assert "match remove" in audit and "match add" in audit


def test_a_campaign_without_pools_says_nothing_of_a_match(tracker, make_campaign):
    make_campaign()
    d = status_json(tracker)
    assert (d["match_earned"], d["match_remaining"], d["matches"]) == ("0.00", "0.00", [])
    assert "Match" not in tracker("status", "--as-of", "2026-12-28T12:00").out
    assert "no match pools" in tracker("match", "list").out


def test_deleting_a_campaign_takes_its_pools_with_it(tracker, newsmatch):
    refused = tracker("campaign", "delete", "dec-2026")
    assert refused.code == 2 and "1 match pool: add --force" in refused.err
    assert tracker("match", "edit", "NewsMatch", "--cap", "4000").code == 0  # a pool with history
    done = tracker("campaign", "delete", "dec-2026", "--force")
    assert done.code == 0, done.err
    assert "0 edits and 1 match pools" in done.out
    assert tracker("campaign", "list").out.startswith("no campaigns")


# -- popup copy: {match_remaining}, {match_ratio} and the match_exhausted text ----------------------

def _dec():
    from datetime import date

    from tracker.models import Campaign

    return Campaign(slug="dec-2026", name="December", goal_cents=375_000_00, currency="USD",
                    timezone="America/Los_Angeles", start_date=date(2026, 12, 1), end_date=date(2026, 12, 31))


def _spec(headline, **alternatives):
    from tracker.appeals import VariantSpec

    return VariantSpec(key="v", name="V", headline=headline, body="Give.", button="Donate", control=True, active=True,
                       share_bp=None, alternatives=alternatives)


def _moment(remaining, ratio="1:1"):
    from tracker.appeals import copy_moment_of
    from tracker.dates import zone

    c = _dec()
    return copy_moment_of(goal_cents=c.goal_cents, original_goal_cents=c.goal_cents, raised_cents=100_000_00,
                          donors=10, new_donors=2, seconds_left=3 * 86_400, phase="running",
                          deadline=c.ends_at - timedelta(seconds=1), tz=zone(c.timezone), currency="USD",
                          match_remaining_cents=remaining, match_ratio=ratio)


@pytest.mark.parametrize("remaining, shown", [(4_250_00, "$4,250"), (4_249_01, "$4,250"), (1, "$1"), (0, "$0")])
def test_match_remaining_is_whole_dollars_rounded_up(remaining, shown):
    assert _moment(remaining).values["match_remaining"] == shown


def test_an_exhausted_match_chooses_the_match_exhausted_text():
    from tracker.appeals import render_copy

    variant = _spec("Every gift doubled: {match_remaining} of match left ({match_ratio})",
                    match_exhausted={"headline": "The match is met: thank you! Your gift still counts."})
    assert render_copy(variant, _moment(4_250_00)).headline == "Every gift doubled: $4,250 of match left (1:1)"
    exhausted = render_copy(variant, _moment(0))
    assert (exhausted.alternative, exhausted.headline) == ("match_exhausted",
                                                           "The match is met: thank you! Your gift still counts.")


def test_copy_that_would_say_0_of_match_left_is_refused_and_with_a_match_exhausted_text_it_loads():
    from tracker.appeals import check_copy
    from tracker.errors import UsageError

    c = _dec()
    with pytest.raises(UsageError, match=r"with the match exhausted.*\[variant.match_exhausted\]"):
        check_copy([_spec("Doubled! {match_remaining} of match left")], c)
    assert check_copy([_spec("Doubled! {match_remaining} of match left",
                             match_exhausted={"headline": "The match is met, and every gift still counts"})], c) > 700
    with pytest.raises(UsageError, match="with the match exhausted"):  # the goal's text wins: it must read right too
        check_copy([_spec("Doubled! {match_remaining} of match left",
                          match_exhausted={"headline": "The match is met"},
                          goal_reached={"headline": "We made it! {match_remaining} of match left"})], c)


# -- the same figures in the report, the reconciliation export, /api/progress and the alerts ---------

def test_the_report_json_and_text_carry_the_match(tracker, newsmatch):
    d = status_json(tracker)
    done = tracker("report", "--campaign", "dec-2026", "--as-of", "2026-12-28T12:00", "--format", "json")
    assert done.code == 0, done.err
    report = json.loads(done.out)
    keys = ("match_earned", "match_received", "match_pending", "match_remaining", "raised_with_match", "matches")
    assert {k: report[k] for k in keys} == {k: d[k] for k in keys}
    text = tracker("report", "--campaign", "dec-2026", "--as-of", "2026-12-28T12:00").out
    assert "$3,000.00 earned ($0.00 received, $3,000.00 pending), $0.00 remaining; raised with match $6,900.01" in text
    assert "NewsMatch 1:1: $3,000.00 earned of $3,000.00 (exhausted" in text


def test_the_reconciliation_export_has_the_match_lines(tracker, newsmatch):
    import csv
    import io

    done = tracker("export", "reconciliation", "--campaign", "dec-2026", "--as-of", "2026-12-28T12:00")
    assert done.code == 0, done.err
    rows = {(r["section"], r["key"]): r for r in csv.DictReader(io.StringIO(done.out))}
    assert rows[("match earned", "NewsMatch")]["raised"] == "3000.00"
    assert rows[("match earned", "NewsMatch")]["gifts"] == "5"
    assert rows[("match pending", "NewsMatch")]["raised"] == "3000.00"
    assert rows[("match remaining", "NewsMatch")]["raised"] == "0.00"
    assert rows[("total", "raised with match")]["raised"] == "6900.01"
    assert rows[("ties", "yes")]


def test_the_progress_endpoint_carries_the_match_of_the_status(tracker, newsmatch, db_url):
    from dashboards.app import create_app
    from tracker import db as tracker_db
    from tracker.dates import parse_as_of, zone

    engine = tracker_db.make_engine(db_url)
    try:
        app = create_app(tracker_db.session_factory(engine),
                         as_of=parse_as_of("2026-12-28T12:00", zone("America/Los_Angeles")))
        body = app.server.test_client().get("/api/progress?campaign=dec-2026").get_json()
    finally:
        engine.dispose()
    d = status_json(tracker)
    for key in ("raised", "match_earned", "match_remaining", "raised_with_match", "progress", "goal_counts"):
        assert body[key] == d[key], key
    assert body["matches"] == [{k: v for k, v in d["matches"][0].items() if k not in (
        "gifts", "donors", "new_donors_only", "recurring_multiplier", "exclude_methods")}]


def test_the_progress_endpoint_keeps_its_answer_until_the_data_or_a_pool_changes(tracker, newsmatch, sessions, db_url):
    from dashboards.app import create_app
    from tracker import db as tracker_db, match_pools, queries
    from tracker.dates import parse_as_of, zone

    engine = tracker_db.make_engine(db_url)
    try:
        app = create_app(tracker_db.session_factory(engine),
                         as_of=parse_as_of("2026-12-28T12:00", zone("America/Los_Angeles")))
        client, cache = app.server.test_client(), app.server.extensions["tracker_page_cache"]

        def earned():
            return client.get("/api/progress?campaign=dec-2026").get_json()["match_earned"]

        assert (earned(), earned(), cache.hits) == ("3000.00", "3000.00", 1)
        with sessions.begin() as session:  # a raised cap: the next answer is worked out again
            c = queries.get_campaign(session, "dec-2026")
            match_pools.edit_pool(session, c, queries.get_match_pool(session, c, "NewsMatch"), actor="test",
                                  now=utc(2026, 11, 2), cap_cents=3_500_00)
        assert earned() == "3500.00" and cache.hits == 1
        refund = """
            donation_id,donated_at,amount,email,recurring,status,refunded_amount
            d4,2026-12-04T10:00:00-08:00,2000,c@example.org,false,refunded,2000
        """
        assert tracker("ingest", "donations", write_csv(newsmatch / "refund.csv", refund)).code == 0
        assert earned() == status_json(tracker)["match_earned"] != "3500.00"
        assert client.get("/api/progress?campaign=nope").status_code == 404
        assert client.get("/api/progress?campaign=nope").status_code == 404  # errors are not kept
    finally:
        engine.dispose()


def test_a_pool_alerts_at_80_and_100_percent_once_each(sessions, newsmatch):
    from tracker import queries, service
    from tracker.reporting import alerts

    def alerts_at(at):
        with sessions.begin() as session:
            c = queries.get_campaign(session, "dec-2026")
            st = service.campaign_status(session, c, as_of=at)
        return [a for a in alerts.current(st, (25, 50, 75, 100), None) if a.group.startswith("match")]

    assert alerts_at(utc(2026, 12, 3, 12)) == []  # 1,000 of 3,000 earned
    at_80 = alerts_at(utc(2026, 12, 4, 20))  # 2,600 of 3,000: 86%
    assert [(a.key.split("-", 2)[2], a.level) for a in at_80] == [("80", 80)]
    assert "the NewsMatch match is 80% used: $2,600.00 of $3,000.00 earned, $400.00 left" in at_80[0].headline
    full = alerts_at(utc(2026, 12, 28, 20))
    assert [a.level for a in full] == [80, 100]
    send, passed = alerts.to_send(full, recorded={at_80[0].key})
    assert [a.level for a in send] == [100] and "is used up" in send[0].headline and passed == []
    assert alerts.to_send(full, recorded={a.key for a in full}) == ([], [])


# -- the table again, through the database: the gifts imported, the pool stored, the match read back ----

def _db_case(gifts) -> bool:
    """Whether a case's gifts can be written as an import as they are: no method, no made-up first gifts, and
    a recurring gift's first installment is the case's own."""
    return all(g.method is None and g.donor_first_gift_at is None
               and (not g.recurring or g.first_recurring_id in {x.id for x in gifts}) for g in gifts)


DB_CASES = [c for c in CASES if _db_case(c[2]) and not c[1].new_donors_only and not c[1].exclude_methods]


@pytest.mark.parametrize("pool_, gifts, expected", [c[1:] for c in DB_CASES], ids=[c[0] for c in DB_CASES])
def test_matching_rules_through_the_database(pool_, gifts, expected, sessions, make_campaign, tracker, tmp_path):
    from tracker import queries, service
    from tracker.match_pools import add_pool
    from tracker.models import Donation

    campaign = make_campaign()
    lines = ["donation_id,donated_at,amount,email,recurring,status,refunded_amount"]
    for g in sorted(gifts, key=lambda g: g.id):  # stored in id order, so the database's ids keep the case's order
        amount, status, refunded = (g.cents, "succeeded", "") if g.cents > 0 else (100, "refunded", "1.00")
        lines.append(f"g{g.id},{g.donated_at.isoformat()},{amount / 100:.2f},d{g.donor_id}@example.org,"
                     f"{'true' if g.recurring else 'false'},{status},{refunded}")
    done = tracker("ingest", "donations", write_csv(tmp_path / "case.csv", "\n".join(lines) + "\n"))
    assert done.code == 0, done.err
    terms = pool_.terms[0][1]
    with sessions.begin() as session:
        c = queries.get_campaign(session, campaign.slug)
        add_pool(session, c, name=pool_.name, ratio=ratio_text(terms.ratio).removesuffix(":1"), cap_cents=terms.cap_cents, per_donor_cap_cents=terms.per_donor_cap_cents, starts_at=pool_.starts_at,
                 ends_at=pool_.ends_at, recurring_multiplier=terms.recurring_multiplier, actor="test", now=START)
    with sessions.begin() as session:
        c = queries.get_campaign(session, campaign.slug)
        result = service.match_summary(session, c, as_of=AS_OF).pools[0]
        names = dict(session.execute(Donation.__table__.select().with_only_columns(
            Donation.id, Donation.external_id)).all())
    assert {int(names[i][1:]): cents for i, cents in result.per_gift.items()} == expected
    assert result.earned_cents == sum(expected.values())


def test_a_refund_in_a_closed_month_still_gives_its_match_back(tracker, newsmatch):
    assert tracker("period", "close", "2026-11", "--as-of", "2026-12-05T00:00").code == 0
    refund = """
        donation_id,donated_at,amount,email,recurring,status,refunded_amount
        n1,2026-11-15T10:00:00-08:00,500,a@example.org,false,refunded,500
    """
    assert tracker("ingest", "donations", write_csv(newsmatch / "late-refund.csv", refund)).code == 0
    d = status_json(tracker, "2026-12-03T12:00")
    # n1's 500 goes back: d1 now earns 800 (a@ under the $1,000 cap), d2 600
    assert (d["match_earned"], d["matches"][0]["gifts"]) == ("1400.00", 2)


@pytest.mark.parametrize("span", [timedelta(minutes=1), timedelta(hours=6), timedelta(days=30)])
def test_the_match_read_a_stretch_at_a_time_is_the_match_of_the_whole_window(sessions, tracker, newsmatch, span):
    # NewsMatch's cap is used up on December 5, then raised from December 5 11:00 on, so the reading goes on
    # after it was used up once; an evening pool opens later (its gifts are read from its start)
    from tracker import match_pools, queries, service
    from tracker.matching import pool_of

    with sessions.begin() as session:
        c = queries.get_campaign(session, "dec-2026")
        match_pools.edit_pool(session, c, queries.get_match_pool(session, c, "NewsMatch"), actor="test",
                              now=utc(2026, 12, 5, 19), cap_cents=3_500_00)
        match_pools.add_pool(session, c, name="Evening", ratio="2", cap_cents=1_000_00, starts_at=utc(2026, 12, 4),
                             ends_at=utc(2026, 12, 6), actor="test", now=utc(2026, 11, 2))
    more = """
        donation_id,donated_at,amount,email,recurring,status,refunded_amount
        e1,2026-12-05T11:30:00-08:00,250,g@example.org,false,succeeded,
        e2,2026-12-05T12:00:00-08:00,900,h@example.org,false,succeeded,
    """
    assert tracker("ingest", "donations", write_csv(newsmatch / "more.csv", more)).code == 0
    for as_of in (utc(2026, 12, 4, 19), utc(2026, 12, 5, 18), utc(2026, 12, 28, 20)):
        with sessions.begin() as session:
            c = queries.get_campaign(session, "dec-2026")
            rows = queries.list_match_pools(session, c)
            changes = queries.match_changes(session, [r.id for r in rows])
            pools = [pool_of(r, changes[r.id]) for r in rows]
            whole = match(pools, queries.match_gifts(session, c, utc(2026, 11, 1), utc(2027, 1, 1)), as_of)
            paged = service.match_summary(session, c, as_of=as_of, span=span).pools
        assert [(r.earned_cents, r.gifts, r.donors, r.remaining_cents, r.per_gift) for r in paged] == \
            [(r.earned_cents, r.gifts, r.donors, r.remaining_cents, r.per_gift) for r in whole]
    assert [r.earned_cents for r in paged] == [3_500_00, 1_000_00]  # the raised cap used up again, and the evening's
