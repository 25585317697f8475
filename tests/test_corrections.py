"""Correcting the record and closing the books, through the CLI as staff and finance would, on SQLite and
PostgreSQL: gifts entered by hand (the same checks as a CSV row, and no guessing at "1.000" or "03/12"), voided
and shown with their history; imports undone (what they created removed or voided, what they changed rolled back,
a later change in the way named, twice a no-op, rollups equal to a rebuild); a month closed, after which a refund
of one of its gifts is an adjustment in the next month and its figures stay as they were."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import func, select

from conftest import serving, write_csv
from test_dashboard import page  # noqa: F401  (the page fixture)
from test_rollups import assert_kept_equals_rebuilt
from tracker.models import Donation, GiftHistory

FIRST = """\
donation_id,amount,donated_at,email,name,status,refunded_amount
A1,100.00,2026-12-05T10:00:00-08:00,ann@example.org,Ann,succeeded,0
A2,50.00,2026-12-06T10:00:00-08:00,bob@example.org,Bob,succeeded,0
"""
# a later file: A1 was refunded, A3 is new
SECOND = """\
donation_id,amount,donated_at,email,name,status,refunded_amount
A1,100.00,2026-12-05T10:00:00-08:00,ann@example.org,Ann,refunded,100.00
A3,75.00,2026-12-07T10:00:00-08:00,cy@example.org,Cy,succeeded,0
"""
# in January: a December gift refunded, and a January gift
JANUARY = """\
donation_id,amount,donated_at,email,name,status,refunded_amount
A2,50.00,2026-12-06T10:00:00-08:00,bob@example.org,Bob,refunded,50.00
J1,30.00,2027-01-16T10:00:00-08:00,jo@example.org,Jo,succeeded,0
"""
DECEMBER_END = ("--as-of", "2026-12-31T23:00:00-08:00")


def raised(tracker, *as_of):
    out = tracker("status", "--json", *(as_of or DECEMBER_END))
    assert out.code == 0, out
    return json.loads(out.out)


def imported(tracker, path, as_of):
    result = tracker("ingest", "donations", path, "--format", "generic", "--as-of", as_of)
    assert result.code == 0, result
    return int(result.out.split("(import #")[1].split(")")[0])


@pytest.fixture
def december(tmp_path, make_campaign):
    make_campaign()  # dec-2026, America/Los_Angeles
    return {name: write_csv(tmp_path / f"{name}.csv", text)
            for name, text in (("first", FIRST), ("second", SECOND), ("january", JANUARY))}


def test_a_check_entered_by_hand_counts_like_any_gift_and_bad_values_get_a_rows_message(tracker, december, sessions):
    added = tracker("gift", "add", "--amount", "1,250.00", "--donated-at", "2026-12-30", "--donor-email",
                    "dee@example.org", "--name", "Dee Park", "--method", "check", "--reference", "CHECK-1042",
                    "--channel", "mail", "--note", "in the Dec 30 mail", "--as-of", "2026-12-30T12:00")
    assert added.code == 0 and added.err == "", added
    gift_id = int(added.out.split()[2])
    assert added.out.startswith(f"added gift {gift_id} (manual:M-000001): $1,250.00 on 2026-12-30 08:00 UTC")
    assert raised(tracker)["raised"] == "1250.00"
    shown = json.loads(tracker("gift", "show", gift_id, "--json").out)
    assert shown["created"]["by"] == "hand" and shown["created"]["who"]
    assert shown["details"]["method"] == "check" and shown["details"]["reference"] == "CHECK-1042"
    assert shown["details"]["note"] == "in the Dec 30 mail"
    # the same checks as a CSV row, and no guessing on values that read two ways
    for args, message in (
        (("--amount", "1.000"), "could be read two ways"),
        (("--amount", "10,50"), "decimal comma"),
        (("--amount", "-5"), "negative"),
        (("--amount", "abc"), "amount"),
        (("--donated-at", "03/12/2026"), "could be March 12 or 3 December; write it as 2026-03-12 or 2026-12-03"),
        (("--donated-at", "someday"), "donated_at"),
        (("--donor-email", "not-an-address"), "not an e-mail address"),
    ):
        values = {"--amount": "20", "--donated-at": "2026-12-20", "--donor-email": "x@example.org"}
        values.update(dict(zip(args[::2], args[1::2])))
        refused = tracker("gift", "add", *[v for kv in values.items() for v in kv])
        assert refused.code == 2 and message in refused.err and "Traceback" not in refused.err, (args, refused)
    # a day-first date that reads only one way is taken as written
    assert "on 2026-12-19" in tracker("gift", "add", "--amount", "20", "--donated-at", "19/12/2026",
                                      "--donor-email", "x@example.org").out
    outside = tracker("gift", "add", "--amount", "20", "--donated-at", "2026-11-03", "--donor-email", "x@example.org")
    assert outside.code == 0 and "outside every campaign" in outside.err
    assert raised(tracker)["raised"] == "1270.00"  # 1,250 + 20 (the November one is outside the window)
    with sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(Donation).where(Donation.source == "manual")) == 3


def test_hostile_text_typed_with_a_gift_is_refused_or_inert_on_both_databases(tracker, december, sessions):
    base = ("--amount", "20", "--donated-at", "2026-12-20", "--donor-email", "x@example.org")
    for args, message in ((("--reference", "CHECK\x001"), "the reference holds a NUL character"),
                          (("--note", "n" * 140_000), "the note is 140,000 characters long, more than the 2,000"),
                          (("--reference", "r" * 201), "more than the 200 it may have"),
                          (("--name", "a\x00b"), "NUL character")):
        refused = tracker("gift", "add", *base, *args)
        assert refused.code == 2 and message in refused.err and "Traceback" not in refused.err, (args, refused)
    with sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(Donation)) == 0  # nothing half-stored
    # a name and a reference that a spreadsheet would run stay text in the export
    assert tracker("gift", "add", *base, "--name", "=HYPERLINK(\"http://evil.example\")",
                   "--reference", "+1+1").code == 0
    rows = list(csv.DictReader(io.StringIO(tracker("export", "donations", "--campaign", "dec-2026",
                                                   "--include-personal", *DECEMBER_END).out)))
    assert rows[0]["donor_name"] == "'=HYPERLINK(\"http://evil.example\")"
    gift = rows[0]
    refused = tracker("gift", "void", 1, "--reason", "bounced\x00")
    assert refused.code == 2 and "the reason holds a NUL character" in refused.err
    assert gift["status"] == "succeeded" and raised(tracker)["raised"] == "20.00"


def test_a_voided_gift_is_kept_counts_nothing_and_says_who_and_why(tracker, december, sessions):
    imported(tracker, december["first"], "2026-12-10")
    before = raised(tracker)
    assert before["raised"] == "150.00"
    with sessions.begin() as session:
        a2 = session.scalar(select(Donation.id).where(Donation.external_id == "A2"))
    assert tracker("gift", "void", a2).code == 2  # --reason is required
    assert tracker("gift", "void", a2, "--reason", "the card was stolen", "--as-of", "2026-12-12T10:00").out == \
        f"voided gift {a2}\n"
    again = tracker("gift", "void", a2, "--reason", "twice")
    assert again.code == 2 and "voided already, on 2026-12-12" in again.err
    assert tracker("gift", "void", 999999, "--reason", "x").code == 2
    after = raised(tracker)
    assert after["raised"] == "100.00" and after["donors"] == before["donors"] - 1
    assert_kept_equals_rebuilt(sessions)
    shown = json.loads(tracker("gift", "show", a2, "--json").out)
    assert shown["status"] == "voided" and shown["voided_at"].startswith("2026-12-12")
    assert shown["created"]["by"] == "import"
    assert [h["kind"] for h in shown["history"]] == ["voided"]
    assert shown["history"][0]["note"] == "the card was stolen" and shown["details"]["void_reason"] == "the card was stolen"
    # a re-import of the same file does not bring a gift a person voided back
    imported(tracker, december["first"], "2026-12-13")
    assert raised(tracker)["raised"] == "100.00"
    text = tracker("gift", "show", a2).out
    assert "voided by" in text and "the card was stolen" in text


def test_undoing_imports_takes_back_what_they_did_in_either_order_and_twice_is_a_no_op(tracker, december, sessions):
    first = imported(tracker, december["first"], "2026-12-10")
    second = imported(tracker, december["second"], "2026-12-11")
    assert raised(tracker)["raised"] == "125.00"  # A1 refunded, A2 50, A3 75
    undone = tracker("imports", "undo", second, "--as-of", "2026-12-12")
    assert undone.code == 0, undone
    assert undone.out == (f"undid import {second}: 1 gift removed, 0 voided, 1 gift restored to before it, "
                          "0 refunds removed\n")
    assert raised(tracker)["raised"] == "150.00"  # A1 counts again, A3 is gone
    assert_kept_equals_rebuilt(sessions)
    assert "undone already" in tracker("imports", "undo", second).out
    assert raised(tracker)["raised"] == "150.00"
    audited = [line for line in tracker("audit", "list").out.splitlines() if "import undo" in line]
    assert len(audited) == 1 and f"import {second}: 1 gift removed, 0 voided, 1 restored, 0 refunds removed" in audited[0]
    assert "undone" in tracker("imports", "list").out
    a1 = json.loads(tracker("gift", "show", "1", "--json").out)
    assert [h["kind"] for h in a1["history"]] == ["refunded", "undone"]
    assert a1["history"][1]["by"] == f"import {second}" and a1["history"][1]["note"] == f"import {second} undone"
    # importing the corrected file again works as the first time
    imported(tracker, december["second"], "2026-12-13")
    assert raised(tracker)["raised"] == "125.00"
    # undoing the first import now: A1 was changed by a later import, so it is voided, not removed; A2 removed
    out = tracker("imports", "undo", first, "--as-of", "2026-12-14")
    assert out.code == 0 and "1 gift removed, 1 voided" in out.out, out
    assert raised(tracker)["raised"] == "75.00"  # A3 of the last import only
    assert_kept_equals_rebuilt(sessions)
    with sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(Donation).where(Donation.external_id == "A2")) == 0
        assert session.scalar(select(func.count()).select_from(GiftHistory).where(
            GiftHistory.kind == "undone")) >= 2
    # the file brought back: a gift voided only by the undo returns
    imported(tracker, december["first"], "2026-12-15")
    assert raised(tracker)["raised"] == "125.00"
    assert_kept_equals_rebuilt(sessions)


def test_an_undo_that_a_later_change_is_in_the_way_of_says_which_and_changes_nothing(tracker, december, sessions,
                                                                                      tmp_path):
    imported(tracker, december["first"], "2026-12-10")
    refund = imported(tracker, december["second"], "2026-12-11")  # refunds A1
    disputed = write_csv(tmp_path / "dispute.csv", FIRST.splitlines()[0] + ",dispute_status\n"
                         "A1,100.00,2026-12-05T10:00:00-08:00,ann@example.org,Ann,refunded,100.00,open\n")
    later = imported(tracker, disputed, "2026-12-12")
    before = raised(tracker)["raised"]
    refused = tracker("imports", "undo", refund)
    assert refused.code == 2, refused
    assert f"import {refund} cannot be undone: gift 1 was changed again (disputed) by import {later}" in refused.err
    assert raised(tracker)["raised"] == before and "undone" not in tracker("imports", "list").out
    # undoing the later one first, then this one, works
    assert tracker("imports", "undo", later).code == 0
    assert tracker("imports", "undo", refund).code == 0
    assert raised(tracker)["raised"] == "150.00"
    assert_kept_equals_rebuilt(sessions)


def test_a_closed_december_keeps_its_figures_and_a_january_refund_is_an_adjustment(tracker, december, sessions):
    imported(tracker, december["first"], "2026-12-10")
    assert tracker("gift", "add", "--amount", "500", "--donated-at", "2026-12-30", "--donor-email", "dee@example.org",
                   "--as-of", "2026-12-30T12:00").code == 0
    # the board's stretch goal, on Dec 29
    edited = tracker("campaign", "edit", "dec-2026", "--goal", "450,000", "--as-of", "2026-12-29T10:00")
    assert edited.code == 0 and "goal raised to $450,000" in edited.out, edited
    assert "goal raised to $450,000 on Dec 29" in tracker("status", *DECEMBER_END).out
    assert raised(tracker)["goal"] == "450000.00"
    early = tracker("period", "close", "2026-12", "--as-of", "2026-12-31T12:00")
    assert early.code == 2 and "has not ended yet" in early.err
    assert tracker("period", "close", "2026-13").code == 2
    closed = tracker("period", "close", "2026-12", "--as-of", "2027-01-15T10:00")
    assert closed.code == 0 and "closed 2026-12 (America/Los_Angeles) at $650.00" in closed.out, closed
    assert "closed already" in tracker("period", "close", "2026-12").err
    at_close = raised(tracker, "--as-of", "2027-01-15T12:00")
    assert at_close["raised"] == "650.00"

    def exported(*args, kind="donations"):
        out = tracker("export", kind, *args)
        assert out.code == 0, out
        return out.out

    december_daily = exported("--campaign", "dec-2026", "--as-of", "2027-01-15T12:00", kind="daily")
    assert "ties,yes" in exported("--campaign", "dec-2026", "--as-of", "2027-01-15T12:00", kind="reconciliation")

    december_file = exported("--campaign", "dec-2026", "--as-of", "2027-01-15T12:00")
    december_days = exported("--from", "2026-12-01", "--to", "2026-12-31", "--as-of", "2027-01-15T12:00")
    imported(tracker, december["january"], "2027-01-20")  # A2 refunded; J1 in January
    # a December gift voided in January, too
    with sessions.begin() as session:
        a1 = session.scalar(select(Donation.id).where(Donation.external_id == "A1"))
    assert tracker("gift", "void", a1, "--reason", "a duplicate check", "--as-of", "2027-01-21").code == 0
    # and a check dated December 31 that arrives in the January mail
    assert tracker("gift", "add", "--amount", "40", "--donated-at", "2026-12-31", "--donor-email", "late@example.org",
                   "--as-of", "2027-01-22T09:00").code == 0
    later = raised(tracker, "--as-of", "2027-01-25")
    assert later["raised"] == "650.00"  # December's figure is what it was at the close
    for key in ("donations", "donors", "new_donors", "segments"):  # and so are its gifts and donors
        assert later[key] == at_close[key], key
    assert later["closed"]["raised_at_close"] == "650.00"
    assert later["closed"]["adjustments_since"] == "-110.00" and later["closed"]["adjustments"] == 3
    text = tracker("status", "--as-of", "2027-01-25").out
    assert "closed on Jan 15 at $650.00; adjustments since: −$110.00" in text
    # the dashboard's Overview says the same under the goal bar
    from dashboards.pages import overview
    from tracker.dates import UTC
    from datetime import datetime as dt

    with sessions.begin() as session:
        under_bar = overview.show(session, "dec-2026", dt(2027, 1, 26, tzinfo=UTC))[1]
    assert [p.children for p in under_bar if getattr(p, "id", None) == overview.BOOKS] == [
        "Books closed on Jan 15 at $650.00; adjustments since: −$110.00."]
    # each adjustment counts from when it was made: on the morning of Jan 21, the refund (Jan 20) but not the void
    assert raised(tracker, "--as-of", "2027-01-21T06:00")["closed"]["adjustments_since"] == "-50.00"
    # December's exports are what they were at the close; January's has the adjustments, with the gifts' own dates
    assert exported("--campaign", "dec-2026", "--as-of", "2027-01-25") == december_file
    assert exported("--from", "2026-12-01", "--to", "2026-12-31", "--as-of", "2027-01-25") == december_days
    assert exported("--campaign", "dec-2026", "--as-of", "2027-01-25", kind="daily") == december_daily
    assert "ties,yes" in exported("--campaign", "dec-2026", "--as-of", "2027-01-25", kind="reconciliation")
    january = list(csv.DictReader(io.StringIO(exported("--from", "2027-01-01", "--to", "2027-01-31",
                                                      "--as-of", "2027-01-25"))))
    adjustments = [r for r in january if r["status"] == "adjustment"]
    assert [(r["donation_id"], r["local_date"], r["net"], r["adjusts_period"]) for r in adjustments] == [
        ("A2", "2026-12-06", "-50.00", "2026-12"), ("A1", "2026-12-05", "-100.00", "2026-12"),
        ("M-000002", "2026-12-31", "40.00", "2026-12")]
    assert adjustments[0]["adjusted_at"].startswith("2027-01-20") and adjustments[1]["adjusted_at"].startswith("2027-01-21")
    assert [r["donation_id"] for r in january if r["status"] != "adjustment"] == ["J1"]
    listed = json.loads(tracker("period", "list", "--json").out)
    assert listed[0]["period"] == "2026-12" and listed[0]["adjustments"] == 3
    assert listed[0]["adjustment_cents"] == {"USD": -11000}
    # the live rollups still equal a rebuild from the gifts: the close reads a copy, it changes nothing
    assert_kept_equals_rebuilt(sessions)
    # reopening, audited, shows the live figure again
    assert tracker("period", "close", "2026-12", "--reopen", "--as-of", "2027-02-01").code == 0
    assert raised(tracker, "--as-of", "2027-02-01")["raised"] == "540.00"
    actions = [line.split("  ")[2].split(":")[0] for line in tracker("audit", "list").out.splitlines()
               if line.strip() and "  " in line]
    for action in ("campaign edit", "gift add", "gift void", "period close", "period reopen"):
        assert action in actions, (action, actions)


@pytest.fixture
def staffed(sessions, make_campaign):
    """The dashboard over the test database, behind its login, with a finance login and a viewer."""
    from datetime import datetime

    from dashboards.app import create_app
    from tracker import users
    from tracker.dates import UTC

    make_campaign()
    with sessions.begin() as session:
        users.add(session, "maria", "finance", PASSWORD, now=datetime.now(UTC))
        users.add(session, "sam", "viewer", PASSWORD, now=datetime.now(UTC))
    with serving(create_app(sessions, require_login=True, secret_key="test secret").server) as base:
        yield base


PASSWORD = "correct horse battery"


def http_login(base, name):
    import re

    import requests

    browser = requests.Session()
    page = browser.get(f"{base}/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    reply = browser.post(f"{base}/login", data={"username": name, "password": PASSWORD, "csrf": token, "next": "/"},
                         allow_redirects=False)
    assert reply.status_code == 302
    return browser


def test_a_viewer_cannot_enter_void_or_see_the_gift_form_on_the_server(staffed, sessions):
    import re

    viewer = http_login(staffed, "sam")
    assert viewer.get(f"{staffed}/gifts/new").status_code == 403
    refused = viewer.post(f"{staffed}/gifts/new", data={"amount": "250", "donated_at": "2026-12-30",
                                                        "email": "x@example.org", "csrf": "anything"})
    assert refused.status_code == 403 and refused.headers["Content-Type"].startswith("text/plain")
    finance = http_login(staffed, "maria")
    form = finance.get(f"{staffed}/gifts/new")
    assert form.status_code == 200 and 'id="gift-amount"' in form.text
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    # another site's form has no token: refused, nothing stored
    assert finance.post(f"{staffed}/gifts/new", data={"amount": "250", "donated_at": "2026-12-30",
                                                      "email": "x@example.org"}).status_code == 400
    hostile = '<img src=x onerror="alert(1)">'
    bad = finance.post(f"{staffed}/gifts/new", data={"amount": hostile, "donated_at": "2026-12-30",
                                                     "email": "x@example.org", "csrf": token})
    assert bad.status_code == 400 and "<img" not in bad.text and "&lt;img" in bad.text
    with sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(Donation)) == 0


@pytest.mark.browser
def test_finance_enters_a_check_on_the_dashboard_form_in_chromium(staffed, page, tracker):  # noqa: F811
    from playwright.sync_api import expect

    page.goto(staffed + "/")
    page.fill("#username", "maria")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#account-name")).to_have_text("maria (finance)", timeout=20_000)
    page.locator("#tab-imports").click()
    page.locator("#enter-gift").click()
    expect(page.locator("#gift-amount")).to_be_visible(timeout=20_000)
    page.fill("#gift-amount", "1.000")  # reads two ways: refused, the values kept
    page.fill("#gift-donated_at", "2026-12-30")
    page.fill("#gift-email", "dee@example.org")
    page.fill("#gift-name", "Dee Park")
    page.select_option("#gift-method", "daf")
    page.fill("#gift-reference", "GRANT-77")
    page.click("#gift-submit")
    expect(page.locator("#gift-error")).to_contain_text("could be read two ways")
    expect(page.locator("#gift-email")).to_have_value("dee@example.org")
    page.fill("#gift-amount", "1000")
    page.click("#gift-submit")
    expect(page.locator("#gift-added")).to_contain_text("$1,000.00")
    # the one refusal asked for (the form answered 400 with its message); no script error, no policy violation
    assert page.errors == ["Failed to load resource: the server responded with a status of 400 (BAD REQUEST)"]
    status = json.loads(tracker("status", "--json", *DECEMBER_END).out)
    assert status["raised"] == "1000.00"
    shown = json.loads(tracker("gift", "show", "1", "--json").out)
    assert shown["created"] == {"by": "hand", "who": "maria (dashboard)", "at": shown["created"]["at"]}
    assert shown["details"]["method"] == "daf" and shown["details"]["reference"] == "GRANT-77"
    assert "maria (dashboard)" in tracker("audit", "list").out
