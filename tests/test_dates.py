from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from tracker.dates import UTC, local_midnight, parse_as_of, parse_date, parse_timestamp, zone
from tracker.errors import ConfigError, ValueProblem

LA = ZoneInfo("America/Los_Angeles")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-12-31T23:59:59-08:00", datetime(2027, 1, 1, 7, 59, 59, tzinfo=UTC)),
        ("2026-12-31T23:59:59Z", datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("2026-12-31T23:59:59+05:30", datetime(2026, 12, 31, 18, 29, 59, tzinfo=UTC)),
        ("2026-12-31 23:59:59", datetime(2027, 1, 1, 7, 59, 59, tzinfo=UTC)),  # naive: campaign zone
        ("2026-12-31", datetime(2026, 12, 31, 8, 0, tzinfo=UTC)),  # a date alone: local midnight
        ("12/05/2026 10:00", datetime(2026, 12, 5, 18, 0, tzinfo=UTC)),  # month first
        ("Dec 5, 2026 10:00 AM", datetime(2026, 12, 5, 18, 0, tzinfo=UTC)),
        ("2026-07-04T12:00:00", datetime(2026, 7, 4, 19, 0, tzinfo=UTC)),  # summer time, UTC-7
    ],
)
def test_timestamps_are_read_to_utc(text, expected):
    assert parse_timestamp(text, LA) == expected


@pytest.mark.parametrize(
    "text, words",
    [
        ("2026-02-30T10:00:00", "not a real date"),
        ("2026-13-01", "not a real date"),
        ("next tuesday-ish", "not a date"),
        ("", "empty"),
        ("12/05", "no year"),
    ],
)
def test_unreadable_or_impossible_dates_are_refused_in_words(text, words):
    with pytest.raises(ValueProblem) as exc:
        parse_timestamp(text, LA)
    assert words in str(exc.value)


def test_a_naive_time_with_no_known_zone_is_refused_not_guessed():
    with pytest.raises(ValueProblem, match="no UTC offset"):
        parse_timestamp("2026-12-05 10:00", None)
    assert parse_timestamp("2026-12-05T10:00:00Z", None) == datetime(2026, 12, 5, 10, tzinfo=UTC)


def test_as_of_a_date_means_the_end_of_that_day_in_the_campaign_zone():
    assert parse_as_of("2026-12-20", LA) == datetime(2026, 12, 21, 7, 59, 59, tzinfo=UTC)
    assert parse_as_of("2026-12-20T12:00", LA) == datetime(2026, 12, 20, 20, 0, tzinfo=UTC)
    assert parse_as_of("2026-12-20T12:00Z", LA) == datetime(2026, 12, 20, 12, 0, tzinfo=UTC)


def test_local_midnight_follows_each_zone():
    assert local_midnight(date(2027, 1, 1), LA) == datetime(2027, 1, 1, 8, tzinfo=UTC)
    assert local_midnight(date(2027, 1, 1), zone("Asia/Kolkata")) == datetime(2026, 12, 31, 18, 30, tzinfo=UTC)
    assert local_midnight(date(2027, 1, 1), zone("Pacific/Auckland")) == datetime(2026, 12, 31, 11, tzinfo=UTC)


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "PST8PDT ", "../etc/passwd"])
def test_unknown_time_zones_are_refused_with_an_example(name):
    with pytest.raises(ConfigError, match="IANA"):
        zone(name)


def test_dates_for_windows_are_iso():
    assert parse_date("2026-12-31") == date(2026, 12, 31)
    with pytest.raises(ValueProblem, match="YYYY-MM-DD"):
        parse_date("31/12/2026")
