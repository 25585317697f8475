"""Live gifts: Stripe's and PayPal's webhooks over real HTTP, stored before they are answered, applied by
the same loader as file imports, each gift counted once whatever the order and number of deliveries."""

import json
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

import hooks as h
from conftest import serving, write_csv
from tracker import queries, service
from tracker.config import Webhooks
from tracker.dates import utc_now, zone
from tracker.ingest import ImportRequest, RowRules, run_import
from tracker.models import Donation, WebhookEvent, WebhookRefusal
from tracker.webhooks import inbox
from tracker.webhooks.worker import Worker

LA = zone("America/Los_Angeles")
DEC10 = datetime(2026, 12, 10, 12, tzinfo=LA)


@pytest.fixture
def served(sessions, make_campaign, tmp_path):
    """The dashboard's server with Stripe and PayPal webhooks configured, and a worker to apply what it stores."""
    from dashboards.app import create_app

    make_campaign()
    key, cert = h.paypal_key_and_certificate(tmp_path)
    settings = Webhooks(stripe_secrets=(h.SECRET,), paypal_webhook_id=h.WEBHOOK_ID, paypal_cert=cert)
    app = create_app(sessions, webhooks=settings, as_of=datetime(2027, 1, 5, tzinfo=timezone.utc))
    with serving(app.server) as base:
        yield base, key


@pytest.fixture
def hook(served, sessions):
    base, key = served
    worker = Worker(sessions, currency="USD", clock=utc_now)
    return base, key, worker


def raised(sessions, at=datetime(2027, 1, 5, tzinfo=timezone.utc)) -> int:
    with sessions.begin() as session:
        return service.campaign_status(session, queries.get_campaign(session, "dec-2026"), as_of=at).raised_cents


def stored(sessions):
    with sessions.begin() as session:
        return {e.event_id: (e.status, e.error) for e in session.scalars(select(WebhookEvent))}


def gift(sessions, charge_id):
    with sessions.begin() as session:
        g = session.scalar(select(Donation).where(Donation.external_id == charge_id))
        session.expunge_all()
        return g


# -- receiving --------------------------------------------------------------------------------------

def test_a_signed_charge_is_stored_answered_and_applied_once_however_often_it_is_delivered(hook, sessions):
    base, _, worker = hook
    ev = h.event("evt_1", "charge.succeeded", h.charge("ch_1", 2500, DEC10), DEC10)
    assert h.send_stripe(base, ev) == (200, {"ok": True, "message": "received"})
    assert h.send_stripe(base, ev) == (200, {"ok": True, "message": "received before"})  # 0.07 s later, again
    assert stored(sessions) == {"evt_1": ("received", None)}
    assert raised(sessions) == 0  # stored, not applied yet: the answer never waits for the loader
    assert worker.run_once().applied == 1 and worker.run_once().handled == 0
    assert raised(sessions) == 2500 and stored(sessions) == {"evt_1": ("applied", None)}
    g = gift(sessions, "ch_1")
    assert (g.source, g.status, g.recorded_at is not None) == ("stripe", "succeeded", True)


@pytest.mark.parametrize("change, status, reason", [
    (lambda body, headers: (body, {**headers, "Stripe-Signature": headers["Stripe-Signature"][:-4] + "abcd"}), 400,
     "bad signature"),
    (lambda body, headers: (body, h.stripe_headers(body, secret="whsec_someone_else")), 400, "bad signature"),
    (lambda body, headers: (body, h.stripe_headers(body, ts=int(time.time()) - 301)), 400, "too old"),
    (lambda body, headers: (body, {k: v for k, v in headers.items() if k != "Stripe-Signature"}), 400, "no signature"),
    (lambda body, headers: (body + b" ", headers), 400, "bad signature"),  # the body changed after signing
    (lambda body, headers: (body, {**headers, "Content-Type": "text/plain"}), 415, "not json type"),
    (lambda body, headers: (b"x" * (2 << 20), h.stripe_headers(b"x" * (2 << 20))), 413, "too large"),
    (lambda body, headers: (b"{not json", h.stripe_headers(b"{not json")), 400, "not an event"),
    (lambda body, headers: (b'{"object": "event"}', h.stripe_headers(b'{"object": "event"}')), 400, "not an event"),
])
def test_a_delivery_that_does_not_check_out_gets_a_clear_4xx_and_stores_nothing(hook, sessions, change, status, reason):
    base, _, worker = hook
    body = json.dumps(h.event("evt_bad", "charge.succeeded", h.charge("ch_bad", 100_000_00, DEC10), DEC10)).encode()
    body, headers = change(body, h.stripe_headers(body))
    code, answer = h.post(f"{base}/hooks/stripe", body, headers)
    assert code == status and answer["ok"] is False and answer["message"]
    assert stored(sessions) == {} and worker.run_once().handled == 0 and raised(sessions) == 0
    with sessions.begin() as session:
        assert session.scalar(select(WebhookRefusal.n).where(WebhookRefusal.reason == reason)) == 1


def test_a_captured_body_cannot_be_replayed_after_the_tolerance(hook, sessions):
    base, _, _ = hook
    body = json.dumps(h.event("evt_r", "charge.succeeded", h.charge("ch_r", 500, DEC10), DEC10)).encode()
    headers = h.stripe_headers(body, ts=int(time.time()) - 200)
    assert h.post(f"{base}/hooks/stripe", body, headers)[0] == 200  # within 300 s: fine
    replayed = h.stripe_headers(body, ts=int(time.time()) - 400)
    assert h.post(f"{base}/hooks/stripe", body, replayed)[0] == 400


def test_secrets_can_be_rotated(sessions, make_campaign):
    from dashboards.app import create_app

    make_campaign()
    settings = Webhooks(stripe_secrets=("whsec_new", "whsec_old"))
    with serving(create_app(sessions, webhooks=settings).server) as base:
        body = json.dumps(h.event("evt_o", "charge.succeeded", h.charge("ch_o", 500, DEC10), DEC10)).encode()
        assert h.post(f"{base}/hooks/stripe", body, h.stripe_headers(body, secret="whsec_old"))[0] == 200
        both = h.stripe_headers(body, secret="whsec_rotated_away", extra_v1=h.stripe_headers(
            body, secret="whsec_new")["Stripe-Signature"].split("v1=")[1])
        assert h.post(f"{base}/hooks/stripe", body, both)[0] == 200  # several v1 values: one matches


def test_an_unknown_type_is_stored_and_ignored_and_test_mode_is_skipped(hook, sessions):
    base, _, worker = hook
    h.send_stripe(base, h.event("evt_u", "customer.created", {"id": "cus_9", "object": "customer"}, DEC10))
    h.send_stripe(base, h.event("evt_t", "charge.succeeded", h.charge("ch_t", 900, DEC10, livemode=False), DEC10,
                                livemode=False))
    assert worker.run_once().ignored == 2
    events = stored(sessions)
    assert events["evt_u"][0] == "ignored" and "customer.created events change no gift" in events["evt_u"][1]
    assert events["evt_t"][0] == "ignored" and "test mode" in events["evt_t"][1] and raised(sessions) == 0


# -- one gift, whatever the path and the order ------------------------------------------------------

STRIPE_CSV = """id,Created date (UTC),Amount,Amount Refunded,Currency,Captured,Status,Customer Email,Customer ID,Fee
ch_1,2026-12-10 20:00:00,25.00,0,usd,true,Paid,donor@example.org,cus_1,1.03
ch_2,2026-12-11 20:00:00,40.00,10.00,usd,true,Paid,other@example.org,cus_2,1.46
"""


def import_stripe_csv(sessions, tmp_path):
    path = write_csv(tmp_path / "unified_payments.csv", STRIPE_CSV)
    return run_import(sessions, ImportRequest(path=path), RowRules(source="", timezone=None), clock=utc_now)


@pytest.mark.parametrize("csv_first", [True, False])
def test_a_gift_by_webhook_and_by_the_stripe_export_is_one_gift_whichever_comes_first(hook, sessions, tmp_path,
                                                                                      csv_first):
    base, _, worker = hook
    if csv_first:
        assert import_stripe_csv(sessions, tmp_path).inserted == 2
    h.send_stripe(base, h.event("evt_a", "charge.succeeded", h.charge("ch_1", 2500, datetime(2026, 12, 10, 20,
                                                                                            tzinfo=timezone.utc)), DEC10))
    h.send_stripe(base, h.event("evt_b", "charge.refunded", h.charge("ch_2", 4000, datetime(2026, 12, 11, 20,
                                tzinfo=timezone.utc), email="other@example.org", customer="cus_2", refunded=1000), DEC10))
    worker.run_once()
    if not csv_first:
        summary = import_stripe_csv(sessions, tmp_path)
        assert summary.inserted == 0 and summary.updated == 2  # the export adds its fees to the same gifts
    assert raised(sessions) == 2500 + 3000
    with sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(Donation)) == 2
        assert session.scalar(select(Donation.fee_cents).where(Donation.external_id == "ch_1")) == 103


@pytest.mark.parametrize("with_charge_id", [True, False], ids=["crm-names-the-charge", "crm-without-ids"])
def test_a_crm_export_of_a_gift_that_came_by_webhook_is_recognized_or_listed(hook, sessions, tmp_path, with_charge_id):
    base, _, worker = hook
    crm = write_csv(tmp_path / "crm.csv", f"""\
        donation_id,donated_at,amount,email,processor,processor_id
        crm-1,2026-12-10T12:01:00-08:00,25.00,donor@example.org,{"stripe" if with_charge_id else ""},{"ch_1" if with_charge_id else ""}
        """)
    summary = run_import(sessions, ImportRequest(path=crm, source="crm"), RowRules(source="", timezone=LA), clock=utc_now)
    assert summary.inserted == 1
    h.send_stripe(base, h.event("evt_a", "charge.succeeded", h.charge("ch_1", 2500, datetime(2026, 12, 10, 20,
                                                                                            tzinfo=timezone.utc)), DEC10))
    worker.run_once()
    with sessions.begin() as session:
        gifts = session.scalar(select(func.count()).select_from(Donation))
        pairs = queries.undecided_duplicates(session)
    if with_charge_id:  # one gift, named by Stripe's webhook
        assert (raised(sessions), gifts, pairs) == (2500, 1, (0, 0))
        assert gift(sessions, "ch_1").source == "stripe"
    else:  # two gifts until someone decides, and the pair is listed
        assert (raised(sessions), gifts, pairs) == (5000, 2, (1, 2500))


def test_a_gift_made_before_the_deadline_and_delivered_after_it_counts_and_shows_as_late(hook, sessions):
    base, _, worker = hook
    last_minute = datetime(2026, 12, 31, 23, 58, tzinfo=LA)
    h.send_stripe(base, h.event("evt_late", "charge.succeeded", h.charge("ch_late", 10_000, last_minute), last_minute))
    worker.run_once()
    with sessions.begin() as session:
        c = queries.get_campaign(session, "dec-2026")
        # received now (December 1 of the session, or whenever the test runs); imagine it arrived on January 2:
        session.execute(Donation.__table__.update().values(recorded_at=datetime(2027, 1, 2, tzinfo=timezone.utc)))
        st = service.campaign_status(session, c, as_of=datetime(2027, 1, 5, tzinfo=timezone.utc))
    assert st.raised_cents == 10_000 and (st.late_gifts, st.late_cents) == (1, 10_000)


def test_events_in_any_order_end_in_the_final_state(hook, sessions):
    base, _, worker = hook
    t0 = DEC10
    paid = h.charge("ch_o", 5000, t0)
    refunded = h.charge("ch_o", 5000, t0, refunded=2000)
    events = [h.event("evt_3", "charge.updated", paid, t0 + timedelta(minutes=3)),  # an update after the refund
              h.event("evt_2", "charge.refunded", refunded, t0 + timedelta(minutes=2)),
              h.event("evt_1", "charge.succeeded", paid, t0 + timedelta(minutes=1))]
    for ev in events:
        h.send_stripe(base, ev)
    worker.run_once()
    g = gift(sessions, "ch_o")
    assert (g.status, g.refunded_cents) == ("partially_refunded", 2000) and raised(sessions) == 3000


@pytest.mark.parametrize("outcome, counted", [("won", 5000), ("lost", 0)])
def test_a_dispute_holds_the_gift_back_and_can_end_either_way_even_delivered_before_its_charge(hook, sessions, outcome,
                                                                                              counted):
    base, _, worker = hook
    t0 = DEC10
    h.send_stripe(base, h.event("evt_d1", "charge.dispute.created", h.dispute("dp_1", "ch_d", 5000, "needs_response", t0),
                                t0 + timedelta(days=1)))
    assert worker.run_once().waiting == 1  # the charge has not come yet
    h.send_stripe(base, h.event("evt_c", "charge.succeeded", h.charge("ch_d", 5000, t0), t0))
    worker.run_once()
    assert gift(sessions, "ch_d").status == "disputed" and raised(sessions) == 0  # open: held back
    h.send_stripe(base, h.event("evt_d2", "charge.dispute.closed", h.dispute("dp_1", "ch_d", 5000, outcome, t0),
                                t0 + timedelta(days=20)))
    h.send_stripe(base, h.event("evt_d0", "charge.dispute.updated", h.dispute("dp_1", "ch_d", 5000, "under_review", t0),
                                t0 + timedelta(days=5)))  # late: never reopens it
    h.send_stripe(base, h.event("evt_c2", "charge.updated", h.charge("ch_d", 5000, t0, disputed=True), t0))
    worker.run_once()
    assert gift(sessions, "ch_d").dispute_status == outcome and raised(sessions) == counted
    assert {s for s, _ in stored(sessions).values()} == {"applied"}
    # the gift's history names the events that moved it, in the order they happened
    from sqlalchemy import select

    from tracker.models import GiftHistory, WebhookEvent

    with sessions.begin() as session:
        steps = session.execute(
            select(GiftHistory.kind, WebhookEvent.event_id)
            .join(WebhookEvent, WebhookEvent.id == GiftHistory.webhook_event_id)
            .where(GiftHistory.donation_id == gift(sessions, "ch_d").id).order_by(GiftHistory.at, GiftHistory.id)).all()
    assert [tuple(r) for r in steps] == [("disputed", "evt_d1"), (f"dispute_{outcome}", "evt_d2")]


def test_a_stripe_export_of_a_won_dispute_counts_the_gift_again(sessions, make_campaign, tmp_path):
    make_campaign()
    header = "id,Created date (UTC),Amount,Amount Refunded,Currency,Captured,Status,Customer Email,Dispute Status,Disputed Amount\n"
    open_ = write_csv(tmp_path / "a.csv", header + "ch_w,2026-12-10 20:00:00,50.00,0,usd,true,Paid,d@e.org,needs_response,50.00\n")
    won = write_csv(tmp_path / "b.csv", header + "ch_w,2026-12-10 20:00:00,50.00,0,usd,true,Paid,d@e.org,won,50.00\n")
    for path, counted in ((open_, 0), (won, 5000), (open_, 5000)):  # the older file again: still won
        run_import(sessions, ImportRequest(path=path), RowRules(source="", timezone=None), clock=utc_now)
        assert raised(sessions) == counted


def test_paypal_payments_refunds_and_disputes_by_webhook_match_the_activity_download(hook, sessions, tmp_path):
    base, key, worker = hook
    t0 = datetime(2026, 12, 12, 18, tzinfo=timezone.utc)

    def send(ev):
        body = json.dumps(ev).encode()
        return h.post(f"{base}/hooks/paypal", body, h.paypal_headers(key, body))

    assert send(h.paypal_event("WH-2", "PAYMENT.CAPTURE.REFUNDED", h.paypal_refund("RF1", "TX1", "5.00", t0), t0))[0] == 200
    assert send(h.paypal_event("WH-1", "PAYMENT.CAPTURE.COMPLETED", h.capture("TX1", "30.00", t0), t0))[0] == 200
    assert send(h.paypal_event("WH-3", "PAYMENT.CAPTURE.COMPLETED", h.capture("TX2", "20.00", t0), t0))[0] == 200
    assert send(h.paypal_event("WH-4", "CUSTOMER.DISPUTE.RESOLVED", h.paypal_dispute("PP-D-1", "TX2", "20.00", "RESOLVED",
                                                                                     "RESOLVED_BUYER_FAVOUR"), t0))[0] == 200
    worker.run_once()
    worker.run_once()  # the dispute waited for its payment once
    assert raised(sessions) == 2500  # TX1 30 - 5 refunded; TX2 lost its dispute
    body = json.dumps(h.paypal_event("WH-5", "PAYMENT.CAPTURE.COMPLETED", h.capture("TX3", "9.00", t0), t0)).encode()
    assert h.post(f"{base}/hooks/paypal", body, h.paypal_headers(key, body, webhook_id="ANOTHER-WEBHOOK"))[0] == 400
    download = write_csv(tmp_path / "paypal.csv", '"Date","Time","TimeZone","Name","Type","Status","Currency","Gross",'
                         '"Fee","From Email Address","Transaction ID","Reference Txn ID"\n'
                         '"12/12/2026","10:00:00","PST","Pat","Donation Payment","Completed","USD","30.00","-0.59",'
                         '"pat@example.org","TX1",""\n')
    summary = run_import(sessions, ImportRequest(path=download), RowRules(source="", timezone=None), clock=utc_now)
    assert summary.inserted == 0 and raised(sessions) == 2500


def test_a_failing_event_is_retried_with_backoff_then_given_up_and_can_be_replayed(hook, sessions, tracker):
    base, _, worker = hook
    h.send_stripe(base, h.event("evt_eur", "charge.succeeded", h.charge("ch_eur", 900, DEC10, currency="eur"), DEC10))
    first = worker.run_once()  # a euro charge of a day after the rates the tracker has: refused, saying how to fix it
    assert first.failed == 1 and "currency EUR is not the organization's currency USD" in first.errors[0]
    assert "tracker rates import" in first.errors[0]
    with sessions.begin() as session:
        e = session.scalar(select(WebhookEvent))
        assert (e.status, e.attempts) == ("failed", 1) and e.next_attempt_at > utc_now()
    assert worker.run_once().handled == 0  # not due yet
    for _ in range(inbox.MAX_ATTEMPTS):
        with sessions.begin() as session:
            session.execute(WebhookEvent.__table__.update().values(next_attempt_at=utc_now() - timedelta(seconds=1)))
        worker.run_once()
    assert stored(sessions)["evt_eur"][0] == "gave_up"
    listed = tracker("webhooks", "list", "--status", "gave_up")
    assert listed.code == 0 and "evt_eur" in listed.out and "not the organization's currency USD" in listed.out
    assert tracker("webhooks", "replay", "evt_eur").code == 0 and stored(sessions)["evt_eur"][0] == "received"
    assert tracker("webhooks", "replay", "evt_nope").code == 2


def test_a_charge_in_another_currency_is_converted_at_the_rate_of_its_day(
        hook, sessions, tracker, tmp_path):
    from tracker.models import GiftDetail

    base, _, worker = hook
    oct15, oct17 = datetime(2026, 10, 15, 12, tzinfo=LA), datetime(2026, 10, 17, 12, tzinfo=LA)  # a Thursday, a Saturday
    h.send_stripe(base, h.event("evt_eur", "charge.succeeded", h.charge("ch_eur", 900, oct15, currency="eur"), oct15))
    h.send_stripe(base, h.event("evt_jpy", "charge.succeeded", h.charge("ch_jpy", 1000, oct17, currency="jpy"), oct17))
    assert worker.run_once().failed == 0
    with sessions.begin() as session:
        found = {g.external_id: (g.amount_cents, g.currency, d.original_cents, d.original_currency, d.rate_date.isoformat(),
                                 d.rate_source)
                 for g, d in session.execute(select(Donation, GiftDetail).join(GiftDetail,
                                                                               GiftDetail.donation_id == Donation.id))}
    # the bundled ECB fixing of Oct 15: 1.1208 USD per EUR; ¥1,000 (Stripe's JPY has no minor unit) at Friday's
    assert found["ch_eur"] == (1009, "USD", 900, "EUR", "2026-10-15", "ecb")  # 9.00 x 1.1208 = 10.0872
    assert found["ch_jpy"][1:] == ("USD", 100000, "JPY", "2026-10-16", "ecb") and 600 < found["ch_jpy"][0] < 700
    # the charge's Stripe export, later, brings Stripe's own converted amount: it replaces the provisional one
    export = write_csv(tmp_path / "unified_payments.csv", (
        "id,Created date (UTC),Amount,Amount Refunded,Currency,Captured,Converted Amount,Converted Amount Refunded,"
        "Converted Currency,Fee,Status,Customer Email\n"
        "ch_eur,2026-10-15 19:00:00,9.00,0.00,eur,true,10.05,0.00,usd,0.59,Paid,donor@example.org\n"))
    run_import(sessions, ImportRequest(path=export), RowRules(source="", timezone=None), clock=utc_now)
    with sessions.begin() as session:
        g, d = session.execute(select(Donation, GiftDetail).join(GiftDetail, GiftDetail.donation_id == Donation.id)
                               .where(Donation.external_id == "ch_eur")).one()
        assert (g.amount_cents, d.original_cents, d.rate_source) == (1005, 900, "stripe")
        assert session.scalar(select(func.count()).select_from(Donation)) == 2  # one gift, not two
    # with a newer rate imported, a December charge counts too
    write_csv(tmp_path / "rates.csv", "Date,USD,JPY,GBP\n2026-12-10,1.0500,160.00,0.8400\n")
    assert tracker("rates", "import", str(tmp_path / "rates.csv")).code == 0
    h.send_stripe(base, h.event("evt_gbp", "charge.succeeded", h.charge("ch_gbp", 1000, DEC10, currency="gbp"), DEC10))
    assert worker.run_once().failed == 0
    assert gift(sessions, "ch_gbp").amount_cents == 1250  # £10.00 x 1.05 / 0.84
    assert raised(sessions) == 1250  # in the campaign (the October ones are not)


def test_two_workers_never_take_the_same_event(sessions, make_campaign):
    make_campaign()
    from tracker.webhooks.events import stripe_envelope

    with sessions.begin() as session:
        for i in range(300):
            ev = h.event(f"evt_{i}", "charge.succeeded", h.charge(f"ch_{i}", 100, DEC10), DEC10)
            inbox.store(session, "stripe", stripe_envelope(ev), json.dumps(ev), now=utc_now())
    taken: dict[str, list[int]] = {"a": [], "b": []}

    def take(name):
        while ids := inbox.claim(sessions, name, now=utc_now(), limit=7):
            taken[name] += ids

    threads = [threading.Thread(target=take, args=(n,)) for n in taken]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not set(taken["a"]) & set(taken["b"]) and len(taken["a"]) + len(taken["b"]) == 300


def test_an_applied_event_reaches_the_public_progress_at_once(hook, sessions):
    base, _, worker = hook
    import urllib.request

    before = json.loads(urllib.request.urlopen(f"{base}/api/progress", timeout=10).read())["raised"]
    h.send_stripe(base, h.event("evt_p", "charge.succeeded", h.charge("ch_p", 12345, DEC10), DEC10))
    worker.run_once()
    after = json.loads(urllib.request.urlopen(f"{base}/api/progress", timeout=10).read())["raised"]
    assert (before, after) == ("0.00", "123.45")


def test_reconcile_lists_what_the_webhooks_and_the_export_disagree_on(hook, sessions, tracker, tmp_path):
    base, _, worker = hook
    at = datetime(2026, 12, 10, 20, tzinfo=timezone.utc)
    h.send_stripe(base, h.event("evt_a", "charge.succeeded", h.charge("ch_1", 2500, at), at))  # matches the export
    h.send_stripe(base, h.event("evt_b", "charge.succeeded", h.charge("ch_9", 7000, at + timedelta(hours=5)), at))
    h.send_stripe(base, h.event("evt_c", "charge.succeeded", h.charge("ch_2", 4000, at + timedelta(days=1),
                                                                     email="other@example.org"), at))
    worker.run_once()
    export = write_csv(tmp_path / "unified_payments.csv", STRIPE_CSV)
    out = tracker("reconcile", "stripe", export)
    assert out.code == 1
    assert "not in the export:        ch_9 $70.00" in out.out
    assert "amounts differ:           ch_2 export $30.00, webhooks $40.00" in out.out
    assert "ch_1" not in out.out and "3 charges" not in out.out


def test_the_dashboard_says_where_the_numbers_come_from(hook, sessions, tmp_path):
    from dashboards.pages import overview

    base, _, worker = hook
    with sessions.begin() as session:
        assert overview.freshness_line(session, utc_now()) == "no file imported yet"
    import_stripe_csv(sessions, tmp_path)
    h.send_stripe(base, h.event("evt_f", "charge.succeeded", h.charge("ch_f", 700, DEC10), DEC10))
    worker.run_once()
    with sessions.begin() as session:
        line = overview.freshness_line(session, utc_now() + timedelta(seconds=40))
    assert line.startswith("last gift received 40 s ago (Stripe webhook) · last file import 40 s ago"), line


def test_on_sqlite_a_delivery_while_an_import_holds_the_database_is_spooled_answered_and_applied_once(
        hook, sessions, db_url):
    import sqlite3

    from tracker.webhooks import spool

    base, _, worker = hook
    if not db_url.startswith("sqlite"):  # PostgreSQL's inbox inserts never wait for an import: nothing spools
        assert spool.folder(sessions.kw["bind"]) is None
        assert h.send_stripe(base, h.event("evt_s", "charge.succeeded", h.charge("ch_s", 4200, DEC10), DEC10))[0] == 200
        assert stored(sessions) == {"evt_s": ("received", None)}
        return
    holder = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the write lock, as an import's chunk holds it
    try:
        ev = h.event("evt_s", "charge.succeeded", h.charge("ch_s", 4200, DEC10), DEC10)
        assert h.send_stripe(base, ev) == (200, {"ok": True, "message": "received"})
        assert h.send_stripe(base, ev)[0] == 200  # delivered again while still busy
        where = spool.folder(sessions.kw["bind"])
        assert len(spool.waiting(where)) == 2
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert stored(sessions) == {}
    assert worker.run_once().applied == 1 and spool.waiting(where) == []
    assert stored(sessions) == {"evt_s": ("applied", None)} and raised(sessions) == 4200
