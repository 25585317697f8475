"""Scheduled reports and alerts: cron in the campaign's zone, each slot delivered once even with two
schedulers racing on one database, failures retried with backoff, alerts sent once, --skip-unchanged,
milestones since the last report; all through a real SMTP server on loopback and real databases."""

import signal
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from tracker import config as config_file, db, demo, queries
from tracker.reporting import alerts, runs
from tracker.campaign import Status
from tracker.dates import UTC, zone
from tracker.errors import ConfigError
from tracker.cron import due_slot, fire_times, make_trigger
from tracker.reporting.schedule import Scheduler
from tracker.service import campaign_status

LA = zone("America/Los_Angeles")
MID = datetime(2026, 12, 28, 12, tzinfo=LA)
EIGHT = datetime(2026, 12, 28, 8, tzinfo=LA)
ROOT = Path(__file__).resolve().parents[1]


# -- cron expressions -----------------------------------------------------------------------

def local_times(expr, tz, start, end):
    return [t.astimezone(tz) for t in fire_times(make_trigger(expr, tz), start, end)]


def test_weekday_numbers_mean_what_crontab_means_and_times_are_the_campaigns_own():
    week = local_times("0 8 * * 1-5", LA, datetime(2026, 12, 26, tzinfo=LA), datetime(2027, 1, 3, tzinfo=LA))
    assert [t.date() for t in week] == [date(2026, 12, d) for d in (28, 29, 30, 31)] + [date(2027, 1, 1)]
    assert {(t.hour, t.minute) for t in week} == {(8, 0)} and week[0].astimezone(UTC).hour == 16
    sundays = [local_times(f"0 9 * * {d}", LA, datetime(2026, 12, 1, tzinfo=LA), datetime(2026, 12, 31, tzinfo=LA))
               for d in ("0", "7", "sun")]
    assert sundays[0] == sundays[1] == sundays[2] and {t.weekday() for t in sundays[0]} == {6}
    every_other = local_times("0 9 * * */2", LA, datetime(2026, 12, 6, tzinfo=LA), datetime(2026, 12, 13, tzinfo=LA))
    assert [t.strftime("%a") for t in every_other] == ["Sun", "Tue", "Thu", "Sat"]


def test_cron_follows_the_campaign_zone_across_a_clock_change():
    ny = zone("America/New_York")
    times = local_times("0 8 * * *", ny, datetime(2026, 3, 7, tzinfo=ny), datetime(2026, 3, 9, 12, tzinfo=ny))
    assert [t.hour for t in times] == [8, 8, 8]
    assert [t.astimezone(UTC).hour for t in times] == [13, 12, 12]  # EST, then EDT from March 8


def test_the_due_slot_is_the_latest_within_the_grace_period():
    hourly = make_trigger("0 * 31 12 *", LA)
    at = datetime(2026, 12, 31, 10, 20, tzinfo=LA)
    assert due_slot(hourly, at, timedelta(minutes=60)) == datetime(2026, 12, 31, 10, tzinfo=LA)
    assert due_slot(hourly, at, timedelta(minutes=15)) is None  # 10:00 was missed by more than the grace
    assert due_slot(hourly, datetime(2026, 12, 30, 23, 30, tzinfo=LA), timedelta(hours=2)) is None


@pytest.mark.parametrize("text, says", [
    ('[[reports]]\nname = "m"\ncron = "0 8 * *"\nto = ["a@b.org"]\n', "[[reports]] 'm': cron '0 8 * *': a cron expression has 5 fields"),
    ('[[reports]]\nname = "m"\ncron = "0 25 * * *"\nto = ["a@b.org"]\n', "[[reports]] 'm': cron '0 25 * * *'"),
    ('[[reports]]\nname = "m"\ncron = "0 8 * * *"\n', "'to' must list at least one e-mail address"),
    ('[[reports]]\nname = "m"\ncrn = "0 8 * * *"\n', "unknown key 'crn'"),
    ('[alerts]\nto = ["a@b.org"]\nmilestones = [50, "x"]\n', "milestones must be percentages"),
    ('[retry]\nattempts = 0\n', "attempts must be at least 1"),
    ('[mail\nhost = 1', "not valid TOML"),
])
def test_a_bad_configuration_names_the_file_the_place_and_the_fix(tmp_path, text, says):
    path = tmp_path / "tracker.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        config_file.load(path)
    assert str(caught.value).startswith(f"{path}: ") and says in str(caught.value)


def test_the_example_configuration_loads(tmp_path):
    cfg = config_file.load(ROOT / "data" / "tracker.example.toml")
    assert [j.name for j in cfg.reports] == ["morning", "last-day-hourly"] and cfg.alerts.milestones == (25, 50, 75, 100)
    assert cfg.retry.delay(1) == 60 and cfg.retry.delay(3) == 240 and cfg.retry.delay(20) == 3600


# -- alert rules (pure) ---------------------------------------------------------------------

def status(raised, *, goal=400_000_00, typical=None, new=0, goal_new=None):
    from tracker.campaign import GoalProgress

    start, end = datetime(2026, 12, 1, 8, tzinfo=UTC), datetime(2027, 1, 1, 8, tzinfo=UTC)
    return Status(slug="dec-2026", name="Year-end 2026", currency="USD", timezone="America/Los_Angeles",
                  as_of=datetime(2026, 12, 20, tzinfo=UTC), starts_at=start, ends_at=end, goal_cents=goal,
                  raised_cents=raised, percent=None, gap_cents=max(0, goal - raised), donations=1, donors=1,
                  new_donors=new, returning_donors=0, seconds_left=1, needed_per_day_cents=0,
                  typical_cents_by_now=typical,
                  goals=(GoalProgress("new_donors", goal_new, new, 0),) if goal_new else ())


def test_milestones_are_crossed_at_the_exact_cent():
    assert alerts.milestones_crossed(status(200_000_00), (25, 50, 75), 99_999_99, None) == ["25% of the goal",
                                                                                             "50% of the goal"]
    assert alerts.milestones_crossed(status(199_999_99), (25, 50, 75), 100_000_00, None) == []
    assert alerts.milestones_crossed(status(300_000_00), (25, 50, 75), None, None) == [
        "25% of the goal", "50% of the goal", "75% of the goal"]
    st = status(0, new=500, goal_new=1000)
    assert alerts.milestones_crossed(st, (25, 50), 0, 249) == ["25% of the new-donor goal", "50% of the new-donor goal"]


def test_only_the_highest_new_milestone_is_sent_and_behind_needs_the_margin():
    now = alerts.current(status(310_000_00, new=260, goal_new=1000), (25, 50, 75, 100), None)
    send, passed = alerts.to_send(now, recorded={"goal-25"})
    assert [a.key for a in send] == ["goal-75", "new-donors-25"]
    assert [(a.key, by.key) for a, by in passed] == [("goal-50", "goal-75")]
    assert alerts.to_send(now, recorded={a.key for a in now}) == ([], [])
    behind = [a for a in alerts.current(status(89_999_99, typical=100_000_00), (), 10)]
    assert [a.key for a in behind] == ["behind-typical"] and "$10,000.01 short" in behind[0].headline
    assert alerts.current(status(90_000_00, typical=100_000_00), (), 10) == []  # exactly at the margin
    assert alerts.current(status(50_000_00, typical=100_000_00), (), None) == []  # turned off


# -- against real databases and a real SMTP server ------------------------------------------

CONFIG = """
[[reports]]
name = "morning"
campaign = "dec-2026"
cron = "0 8 * * *"
to = ["director@example.org"]

[alerts]
campaign = "dec-2026"
to = ["development@example.org"]

[retry]
attempts = 3
first_delay_seconds = 60
"""


@pytest.fixture
def demo_sessions(db_url):
    engine = db.make_engine(db_url)
    sessions = db.session_factory(engine)
    with sessions.begin() as session:
        demo.build(session, now=MID)
    yield sessions
    engine.dispose()


def configured(tmp_path, text=CONFIG):
    path = tmp_path / "tracker.toml"
    path.write_text(text)
    return config_file.load(path)


def all_runs(sessions):
    with sessions.begin() as session:
        rows = [run for run, _ in queries.list_runs(session, 1000)]
        session.expunge_all()
    return rows


def subjects(mailbox):
    return [m["Subject"] for m in mailbox.messages()]


def figures(sessions, at):
    with sessions.begin() as session:
        return campaign_status(session, queries.get_campaign(session, "dec-2026"), as_of=at)


def test_a_slot_and_its_alerts_go_out_once_with_the_status_figures(demo_sessions, smtp_server, tmp_path):
    scheduler = Scheduler(demo_sessions, configured(tmp_path), log=lambda line: None)
    first = scheduler.tick(EIGHT + timedelta(seconds=30))
    again = scheduler.tick(EIGHT + timedelta(minutes=20))
    st = figures(demo_sessions, EIGHT + timedelta(seconds=30))
    assert st.percent >= 50 and st.percent < 75  # the demo at 8:00 on the 28th
    # the demo's NewsMatch pool was used up on Giving Tuesday: its alert goes out with the first tick too
    assert {(o.job, o.slot, o.status) for o in first} == {("morning", "2026-12-28T16:00:00Z", "sent"),
                                                          ("alert", "goal-50", "sent"), ("alert", "match-1-100", "sent")}
    assert [(o.job, o.status) for o in again] == [("morning", "taken")]
    morning, alert, match = smtp_server.messages()
    assert match["Subject"] == "Year-end 2026: the NewsMatch match is used up: $15,000.00 of $15,000.00 earned"
    assert morning["To"] == "director@example.org" and alert["To"] == "development@example.org"
    assert alert["Subject"] == f"Year-end 2026 passed 50% of its goal: ${st.raised_cents // 100:,}.{st.raised_cents % 100:02d} of $400,000.00"
    assert "Milestones reached  25% of the goal, 50% of the goal" in morning.get_body(("plain",)).get_content()
    by_slot = {r.slot: r for r in all_runs(demo_sessions)}
    assert by_slot["goal-25"].status == "skipped" and "passed over by goal-50" in by_slot["goal-25"].detail
    assert by_slot["2026-12-28T16:00:00Z"].raised_cents == st.raised_cents and by_slot["goal-50"].status == "sent"


def test_two_schedulers_racing_for_one_slot_deliver_it_once(db_url, demo_sessions, smtp_server, tmp_path):
    path = tmp_path / "tracker.toml"
    path.write_text(CONFIG)
    cmd = [sys.executable, "-m", "tracker", "--db", db_url, "--config", str(path), "schedule", "--once",
           "--verbose", "--as-of", "2026-12-28T08:00:30"]
    racers = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    logs = [p.communicate(timeout=120) for p in racers]
    assert [p.returncode for p in racers] == [0, 0], logs
    err = "".join(e for _, e in logs)
    assert err.count("morning dec-2026 2026-12-28 08:00:00 PST: sent") == 1
    assert err.count("morning dec-2026 2026-12-28 08:00:00 PST: taken") == 1
    assert sorted(subjects(smtp_server))[0].startswith("Year-end 2026 passed 50%")
    assert len(smtp_server.envelopes) == 3  # one report, the goal's alert and the used-up match pool's: nothing twice
    assert sorted((r.job, r.slot, r.status) for r in all_runs(demo_sessions)) == [
        ("alert", "goal-25", "skipped"), ("alert", "goal-50", "sent"), ("alert", "match-1-100", "sent"),
        ("alert", "match-1-80", "skipped"), ("morning", "2026-12-28T16:00:00Z", "sent")]


def test_two_running_schedulers_send_every_slot_exactly_once(db_url, demo_sessions, smtp_server, tmp_path):
    path = tmp_path / "tracker.toml"
    path.write_text('[[reports]]\nname = "every-2s"\ncampaign = "dec-2026"\ncron = "*/2 * * * * *"\n'
                    'to = ["director@example.org"]\nattach_daily = false\n')
    cmd = [sys.executable, "-m", "tracker", "--db", db_url, "--config", str(path), "schedule"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(smtp_server.envelopes) < 4:
            time.sleep(0.2)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        logs = [p.communicate(timeout=30) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], logs
    sent = [r for r in all_runs(demo_sessions) if r.status == "sent"]
    assert len(sent) >= 4 and len(smtp_server.envelopes) == len(sent)  # every mail is one recorded slot
    assert len({r.slot for r in sent}) == len(sent) and {r.job for r in sent} == {"every-2s"}
    err = "".join(e for _, e in logs)
    assert "taken: already claimed" in err, err  # both fired for the same slots; the loser stood back


def test_a_failed_delivery_is_retried_with_doubling_delays_then_given_up(demo_sessions, smtp_server, tmp_path, tracker):
    report_only = CONFIG[:CONFIG.index("[alerts]")] + CONFIG[CONFIG.index("[retry]"):]
    scheduler = Scheduler(demo_sessions, configured(tmp_path, report_only), log=lambda line: None)
    t0 = EIGHT + timedelta(seconds=5)
    smtp_server.refuse_next = 2
    [first] = scheduler.tick(t0)
    assert first.status == "failed" and "451" in first.detail and "next attempt in 60 s" in first.detail
    [run] = all_runs(demo_sessions)
    assert run.attempts == 1 and run.next_attempt_at == t0 + timedelta(seconds=60)
    assert [o.status for o in scheduler.tick(t0 + timedelta(seconds=59))] == ["taken"]  # not yet due
    second = scheduler.tick(t0 + timedelta(seconds=61))
    assert [o.status for o in second] == ["taken", "failed"] and "next attempt in 120 s" in second[1].detail
    third = scheduler.tick(t0 + timedelta(seconds=61 + 120))
    assert [(o.status, o.attempt) for o in third] == [("taken", 1), ("sent", 3)]
    [run] = all_runs(demo_sessions)
    assert (run.status, run.attempts, len(smtp_server.envelopes)) == ("sent", 3, 1)

    smtp_server.refuse_next = 10  # the next morning: every attempt refused
    t1 = t0 + timedelta(days=1)
    outcomes = [o.status for at in (0, 61, 61 + 121, 61 + 121 + 241) for o in scheduler.tick(t1 + timedelta(seconds=at))
                if o.status != "taken"]
    assert outcomes == ["failed", "failed", "gave_up"]
    listed = tracker("reports", "list")
    assert listed.code == 0
    assert "morning [2026-12-29T16:00:00Z]  gave_up after 3 attempts to director@example.org: cannot send" in listed.out


def test_a_run_left_by_a_dead_scheduler_is_taken_over_after_its_lease(demo_sessions, smtp_server, tmp_path):
    scheduler = Scheduler(demo_sessions, configured(tmp_path), log=lambda line: None)
    with demo_sessions.begin() as session:
        campaign_id = queries.get_campaign(session, "dec-2026").id
    slot_time = EIGHT.astimezone(UTC)
    assert runs.claim(demo_sessions, job="morning", campaign_id=campaign_id, slot="2026-12-28T16:00:00Z",
                      kind="report", now=slot_time, due_at=slot_time, lease_seconds=600) is not None  # then it died
    during = [o for o in scheduler.tick(EIGHT + timedelta(minutes=5)) if o.job == "morning"]
    after = [o for o in scheduler.tick(EIGHT + timedelta(minutes=11)) if o.job == "morning"]
    assert [o.status for o in during] == ["taken"]
    assert [(o.status, o.attempt) for o in after] == [("taken", 1), ("sent", 2)]
    assert [m["To"] for m in smtp_server.messages()].count("director@example.org") == 1


def test_skip_unchanged_sends_nothing_when_no_gift_arrived(demo_sessions, smtp_server, tmp_path, tracker):
    cfg = configured(tmp_path, '[[reports]]\nname = "hourly"\ncampaign = "dec-2026"\ncron = "0 * * * *"\nto = ["director@example.org"]\n'
                               "skip_unchanged = true\n")
    scheduler = Scheduler(demo_sessions, cfg, log=lambda line: None)
    at = [MID - timedelta(hours=1), MID + timedelta(hours=1), MID + timedelta(hours=2)]  # the demo stops at MID
    statuses = [[o.status for o in scheduler.tick(t + timedelta(seconds=1))] for t in at]
    assert statuses == [["sent"], ["sent"], ["skipped"]]
    assert len(smtp_server.envelopes) == 2
    # the same from the command line (cron's way), recorded under its own job name
    args = ("report", "--campaign", "dec-2026", "--as-of", MID.isoformat(), "--email", "director@example.org",
            "--skip-unchanged")
    assert tracker(*args).code == 0 and len(smtp_server.envelopes) == 3
    repeat = tracker(*args)
    assert repeat.code == 0 and "nothing changed since the 'report' report of 2026-12-28 12:00 PST" in repeat.err
    assert len(smtp_server.envelopes) == 3
    assert [r.status for r in all_runs(demo_sessions) if r.job == "report"] == ["skipped", "sent"]


def test_the_report_lists_the_milestones_crossed_since_the_last_one(demo_sessions, smtp_server, tracker):
    earlier = datetime(2026, 12, 20, 8, tzinfo=LA)
    before, now = figures(demo_sessions, earlier), figures(demo_sessions, MID)
    expected = [f"{p}% of the goal" for p in (25, 50, 75, 100)
                if before.raised_cents * 100 < 400_000_00 * p <= now.raised_cents * 100]
    assert expected  # the demo crosses at least one milestone between the two reports
    sent = tracker("report", "--campaign", "dec-2026", "--as-of", earlier.isoformat(), "--job", "morning",
                   "--email", "director@example.org")
    assert sent.code == 0, sent.err
    later = tracker("report", "--campaign", "dec-2026", "--as-of", MID.isoformat(), "--job", "morning")
    assert f"Milestones since Dec 20 08:00  {', '.join(expected)}\n" in later.out
    as_json = tracker("report", "--campaign", "dec-2026", "--as-of", MID.isoformat(), "--job", "morning",
                      "--format", "json")
    import json
    assert json.loads(as_json.out)["milestones"] == {"since_last_report": earlier.astimezone(UTC).isoformat(),
                                                      "crossed": expected}
    listed = json.loads(tracker("reports", "list", "--json").out)
    assert [(r["job"], r["status"], r["recipients"]) for r in listed] == [("morning", "sent", "director@example.org")]


def test_schedule_without_jobs_or_mail_says_what_is_missing(tracker, demo_sessions, tmp_path, monkeypatch):
    for name in ("TRACKER_SMTP_HOST", "TRACKER_MAIL_FROM"):
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    out = tracker("--config", str(empty), "schedule", "--once")
    assert out.code == 2 and "no [[reports]] jobs and no [alerts] to schedule" in out.err
    path = tmp_path / "tracker.toml"
    path.write_text(CONFIG)
    out = tracker("--config", str(path), "schedule", "--once")
    assert out.code == 2 and "set TRACKER_SMTP_HOST and TRACKER_MAIL_FROM" in out.err
    out = tracker("--config", str(path), "schedule", "--as-of", "2026-12-28")
    assert out.code == 2 and "--as-of needs --once or --show" in out.err


def test_schedule_once_is_silent_for_cron_when_it_delivers_nothing(tracker, demo_sessions, smtp_server, tmp_path):
    path = tmp_path / "tracker.toml"
    path.write_text(CONFIG[:CONFIG.index("[alerts]")])
    first = tracker("--config", str(path), "schedule", "--once", "--as-of", "2026-12-28T08:01")
    assert first.code == 0 and first.err == "morning dec-2026 2026-12-28 08:00:00 PST: sent: to director@example.org\n"
    again = tracker("--config", str(path), "schedule", "--once", "--as-of", "2026-12-28T08:06")
    assert (again.code, again.out, again.err) == (0, "", "")  # cron mails any output: there is none
    told = tracker("--config", str(path), "schedule", "--once", "--verbose", "--as-of", "2026-12-28T10:00")
    assert told.code == 0 and told.err == "nothing due\n"
    assert len(smtp_server.envelopes) == 1


# -- where the gifts come from ----------------------------------------------------------------

@pytest.mark.parametrize("minutes_ago, hour, sent", [
    (45, 10, True),   # quiet for 45 minutes in the active hours
    (20, 10, False),  # 20 minutes: not yet
    (600, 7, False),  # silent all night, but the active hours began at 7:00: only just quiet
    (600, 8, True),   # an hour into the active hours, still nothing
    (45, 23, False),  # outside the active hours
])
def test_a_webhook_source_that_falls_silent_in_the_active_hours_is_alerted_once(minutes_ago, hour, sent):
    from tracker.campaign import Status

    now = datetime(2026, 12, 28, hour, 5, tzinfo=LA)
    st = Status(slug="dec-2026", name="Year-end 2026", currency="USD", timezone="America/Los_Angeles", as_of=now,
                starts_at=datetime(2026, 12, 1, tzinfo=LA), ends_at=datetime(2027, 1, 1, tzinfo=LA), goal_cents=1,
                raised_cents=0, percent=0, gap_cents=1, donations=0, donors=0, new_donors=0, returning_donors=0,
                seconds_left=1, needed_per_day_cents=1)
    last = now - timedelta(minutes=minutes_ago)
    found = alerts.source_alerts(st, now=now, last_received={"stripe": last}, sources=("stripe",), silent_minutes=30,
                                 active_hours=(7, 23), failing=0, failing_threshold=5)
    assert bool(found) == sent
    if sent:
        assert found[0].key == f"silent-stripe-{last:%Y%m%dT%H%M%S}" and "has sent no webhook for" in found[0].headline
    failing = alerts.source_alerts(st, now=now, last_received={}, sources=(), silent_minutes=30, active_hours=(7, 23),
                                   failing=6, failing_threshold=5)
    assert [a.key for a in failing] == ["webhooks-failing-20261228"]


def test_the_scheduler_mails_a_silent_source_once_per_silence(demo_sessions, smtp_server, tmp_path, monkeypatch):
    import json as json_lib

    from tracker.models import WebhookEvent
    from tracker.webhooks import inbox
    from tracker.webhooks.events import stripe_envelope

    monkeypatch.setenv("TRACKER_STRIPE_WEBHOOK_SECRET", "whsec_x")
    ten = datetime(2026, 12, 28, 10, tzinfo=LA)
    ev = {"id": "evt_1", "type": "charge.succeeded", "created": int(ten.timestamp()), "data": {"object": {}}}
    with demo_sessions.begin() as session:
        inbox.store(session, "stripe", stripe_envelope(ev), json_lib.dumps(ev), now=ten)
    cfg = configured(tmp_path, '[alerts]\ncampaign = "dec-2026"\nto = ["dev@example.org"]\nmilestones = [1000]\n'
                                'behind_margin_percent = 0\n')
    scheduler = Scheduler(demo_sessions, cfg, log=lambda line: None)
    # not silent yet; only the demo's used-up NewsMatch pool is alerted (once)
    assert [o.slot for o in scheduler.tick(ten + timedelta(minutes=20))] == ["match-1-100"]
    first = scheduler.tick(ten + timedelta(minutes=40))
    assert [(o.slot, o.status) for o in first] == [("silent-stripe-20261228T180000", "sent")]
    assert scheduler.tick(ten + timedelta(minutes=50)) == []  # the same silence: sent once
    _, mail = smtp_server.messages()
    assert "stripe has sent no webhook for 40 minutes" in mail["Subject"]
    with demo_sessions.begin() as session:  # a delivery comes, then silence again: a new alert
        session.execute(WebhookEvent.__table__.update().values(received_at=ten + timedelta(hours=1)))
    assert [o.slot for o in scheduler.tick(ten + timedelta(hours=1, minutes=31))] == ["silent-stripe-20261228T190000"]
