"""The command line: messages, exit codes, nothing half-written."""

import json
import subprocess
import sys

import pytest

from tracker import __version__, db

CREATE = ["campaign", "create", "--slug", "dec-2026", "--name", "Year-end 2026", "--goal", "400000",
          "--currency", "USD", "--start", "2026-12-01", "--end", "2026-12-31", "--timezone", "America/Los_Angeles"]


def test_campaign_create_then_list(tracker):
    created = tracker(*CREATE)
    assert created.code == 0, created.err
    assert "goal $400,000.00" in created.out and "2027-01-01T00:00:00-08:00 exclusive" in created.out
    listed = json.loads(tracker("campaign", "list", "--json").out)
    assert listed == [{"slug": "dec-2026", "name": "Year-end 2026", "goal": "400000.00", "currency": "USD",
                       "start": "2026-12-01", "end": "2026-12-31", "timezone": "America/Los_Angeles"}]


def test_a_campaign_with_donor_goals_a_fiscal_year_and_net_of_fees_shows_them_in_status(tracker):
    created = tracker(*CREATE, "--goal-new-donors", "500", "--goal-donors", "2000", "--fiscal-year-start", "7",
                      "--raised", "net_of_fees")
    assert created.code == 0, created.err
    out = json.loads(tracker("status", "--as-of", "2026-12-21T00:00", "--json").out)
    assert out["raised_basis"] == "net_of_fees" and out["phase"] == "running"
    assert out["goals"]["new_donors"] == {"goal": 500, "count": 0, "percent": 0.0, "gap": 500, "needed_per_day": 46}
    assert out["goals"]["donors"]["needed_per_day"] == 182  # 2000 over 11 days, rounded up
    assert (out["fiscal_year"]["starts"], out["fiscal_year"]["ends"]) == ("2026-07-01", "2027-06-30")
    text = tracker("status", "--as-of", "2026-12-21T00:00").out
    assert "net of fees and refunds" in text and "0 of 500 new donors (0.00%), 46 a day needed" in text


@pytest.mark.parametrize("flag, value", [("--fiscal-year-start", "13"), ("--goal-new-donors", "0"),
                                         ("--raised", "net")])
def test_bad_goal_options_are_usage_errors(tracker, flag, value):
    result = tracker(*CREATE, flag, value)
    assert result.code == 2 and flag in result.err and "Traceback" not in result.err
    assert json.loads(tracker("campaign", "list", "--json").out) == []


@pytest.mark.parametrize(
    "change, words",
    [
        ({"--timezone": "America/Springfield"}, "unknown time zone 'America/Springfield'"),
        ({"--end": "2026-11-30"}, "end date 2026-11-30 is before the start date"),
        ({"--goal": "0"}, "goal must be more than zero"),
        ({"--goal": "-5"}, "goal must be more than zero"),
        ({"--goal": "lots"}, "'lots' is not an amount"),
        ({"--start": "12/01/2026"}, "YYYY-MM-DD"),
        ({"--slug": "Dec 2026"}, "lower-case letters"),
    ],
)
def test_bad_campaign_definitions_are_one_line_errors_and_write_nothing(tracker, change, words):
    args = list(CREATE)
    for flag, value in change.items():
        args[args.index(flag) + 1] = value
    result = tracker(*args)
    assert result.code == 2
    assert words in result.err and result.err.count("\n") == 1 and result.err.startswith("tracker: ")
    assert json.loads(tracker("campaign", "list", "--json").out) == []


def test_an_existing_slug_is_refused(tracker):
    assert tracker(*CREATE).code == 0
    again = tracker(*CREATE)
    assert again.code == 2 and "exists already" in again.err
    assert len(json.loads(tracker("campaign", "list", "--json").out)) == 1


def test_ingest_prints_counts_and_exits_3_when_rows_are_rejected(tracker, tmp_path):
    tracker(*CREATE)
    good = tracker("ingest", "donations", "data/samples/donations.csv")
    assert good.code == 0, good.err
    assert "recognized as generic" in good.out
    assert "9 rows read: 9 new, 0 updated, 0 unchanged, 0 skipped, 0 rejected" in good.out
    mixed = tracker("ingest", "donations", "data/samples/donations-with-errors.csv", "--rejects", tmp_path / "r.csv")
    assert mixed.code == 3
    assert "7 rows read: 2 new" in mixed.out and "5 rejected" in mixed.out
    assert "data/samples/donations-with-errors.csv:4: donated_at:" in mixed.err


def test_missing_file_and_missing_columns_are_one_line_errors(tracker, tmp_path):
    tracker(*CREATE)
    missing = tracker("ingest", "donations", tmp_path / "nope.csv")
    assert missing.code == 1 and missing.err == f"tracker: {tmp_path / 'nope.csv'}: no such file\n"
    bad = tmp_path / "bad.csv"
    bad.write_text("id,total\n1,2\n")
    unknown = tracker("ingest", "donations", bad)
    assert unknown.code == 1 and unknown.err.count("\n") == 1
    assert "cannot tell the format from its header (id, total); pass --format" in unknown.err
    wrong = tracker("ingest", "donations", bad, "--format", "generic")
    assert wrong.code == 1 and "missing required column(s) donation_id, amount, donated_at" in wrong.err
    assert json.loads(tracker("status", "--json").out)["donations"] == 0


def test_status_with_no_campaign_says_how_to_create_one(tracker):
    result = tracker("status")
    assert result.code == 2 and "tracker campaign create" in result.err


def test_unknown_flag_is_a_usage_error_in_one_line(tracker):
    result = tracker("status", "--bogus")
    assert result.code == 2
    assert result.err.startswith("tracker: No such option") and "--bogus" in result.err
    assert result.err.endswith("(see: tracker status --help)\n") and result.err.count("\n") == 1


def test_bad_as_of_is_explained(tracker):
    tracker(*CREATE)
    result = tracker("status", "--as-of", "yesterday-ish")
    assert result.code == 2 and "--as-of:" in result.err and "ISO 8601" in result.err


def test_a_database_without_schema_names_the_fix(tracker, tmp_path):
    result = tracker("status", db=f"sqlite:///{tmp_path / 'new.sqlite3'}")
    assert result.code == 1
    assert "has no tracker tables yet; run: tracker db upgrade" in result.err


def test_an_unreachable_database_is_one_line(tracker):
    result = tracker("status", db="postgresql://nobody:secret@127.0.0.1:1/nothing")
    assert result.code == 1 and result.err.count("\n") == 1
    assert "cannot connect to the database at postgresql+psycopg://nobody:***@127.0.0.1:1/nothing" in result.err
    assert "secret" not in result.err


def test_db_upgrade_is_safe_to_run_again(tracker, tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    assert tracker("db", "upgrade", db=url).code == 0
    again = tracker("db", "upgrade", db=url)
    assert again.code == 0 and f"schema revision {db.head_revision()}" in again.out


def test_a_database_behind_the_code_names_the_fix(tracker, tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = db.make_engine(url)
    db.upgrade(engine, "0001")
    engine.dispose()
    result = tracker("campaign", "list", db=url)
    assert result.code == 1 and result.err.count("\n") == 1
    assert f"is at schema revision 0001, this tracker needs {db.head_revision()}; run: tracker db upgrade" in result.err
    assert tracker("db", "upgrade", db=url).code == 0
    assert tracker("campaign", "list", db=url).code == 0


def test_serve_refuses_a_public_address_without_login(tracker):
    result = tracker("serve", "--host", "0.0.0.0")
    assert result.code == 2 and "refusing to serve on 0.0.0.0" in result.err


def test_the_installed_command_prints_its_version_and_never_a_traceback(tmp_path):
    exe = [sys.executable, "-m", "tracker"]
    version = subprocess.run([*exe, "--version"], capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.strip() == f"tracker {__version__}"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TRACKER_DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3"}
    broken = subprocess.run([*exe, "ingest", "donations", "nope.csv"], capture_output=True, text=True, env=env, timeout=60)
    assert broken.returncode == 1 and "Traceback" not in broken.stderr
    assert broken.stderr.startswith("tracker: ") and broken.stderr.count("\n") == 1


def test_each_edge_says_how_to_choose_a_campaign_in_its_own_words(tracker, db_url, tmp_path):
    from conftest import serving
    from dashboards.app import create_app
    from tracker.config import load
    from tracker.errors import ConfigError
    from tracker.reporting.schedule import Scheduler

    for year in (2025, 2026):
        assert tracker("campaign", "create", "--slug", f"dec-{year}", "--name", f"Y{year}", "--goal", "1000",
                       "--start", f"{year}-12-01", "--end", f"{year}-12-31", "--timezone", "UTC").code == 0
    several = tracker("status")
    assert several.code == 2 and "there are 2 campaigns" in several.err and "choose one with --campaign SLUG" in several.err
    unknown = tracker("status", "--campaign", "dec-2099")
    assert unknown.code == 2 and "no campaign 'dec-2099' (campaigns: dec-2026, dec-2025); see: tracker campaign list" \
        in unknown.err
    backwards = tracker("export", "daily", "--campaign", "dec-2026", "--from", "2026-12-20", "--to", "2026-12-10")
    assert backwards.code == 2 and backwards.err.startswith("tracker: --from/--to: the last day 2026-12-10 is before")
    # the configuration file names its own key
    (tmp_path / "t.toml").write_text('[[reports]]\nname = "morning"\ncron = "0 8 * * *"\nto = ["d@example.org"]\n'
                                     '[mail]\nhost = "127.0.0.1"\nfrom = "t@example.org"\n')
    engine = db.make_engine(db_url)
    try:
        with pytest.raises(ConfigError) as caught:
            Scheduler(db.session_factory(engine), load(tmp_path / "t.toml"))
        assert 'name one with campaign = "SLUG"' in str(caught.value) and "--campaign" not in str(caught.value)
        # the public API: 404 for a campaign that is not there, the message only
        with serving(create_app(db.session_factory(engine)).server) as base:
            import urllib.error
            import urllib.request

            with pytest.raises(urllib.error.HTTPError) as http:
                urllib.request.urlopen(f"{base}/api/progress?campaign=dec-2099", timeout=10)
            body = json.loads(http.value.read())
            assert http.value.code == 404 and body["field"] == "campaign"
            assert "tracker" not in body["error"] and "--campaign" not in body["error"]
    finally:
        engine.dispose()
