"""Time: the only place that parses timestamps and handles time zones.

Everything is stored in UTC. Each campaign has its own IANA time zone; a timestamp without an
offset ("naive") is read in the zone the caller names, never guessed. Windows are half-open:
[start, end).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as dateutil_parser

from tracker.errors import ConfigError, ValueProblem

UTC = timezone.utc
_NO_YEAR = datetime(1, 1, 1)


def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`, or ConfigError naming the problem and the fix."""
    try:
        if not name or name != name.strip():
            raise ValueError
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, IsADirectoryError):
        raise ConfigError(
            f"unknown time zone {name!r}; use an IANA name such as America/Los_Angeles or Europe/Berlin"
        ) from None


def utc_now() -> datetime:
    """The current instant in UTC. Only entry points (CLI, callbacks, jobs) call this."""
    return datetime.now(UTC)


def ensure_utc(moment: datetime) -> datetime:
    """An aware datetime converted to UTC; a naive one is refused (naive times need a zone)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: say which time zone it is in")
    return moment.astimezone(UTC)


def localize(naive: datetime, tz: ZoneInfo) -> datetime:
    """Attach `tz` to a naive wall-clock time (fold=0: an ambiguous hour is read as its first occurrence)."""
    return naive.replace(tzinfo=tz)


def parse_timestamp(text: str, tz: ZoneInfo | None) -> datetime:
    """Parse a timestamp from an input file into an aware UTC datetime.

    ISO 8601 with an offset or Z is taken as written; a time without an offset (naive) is read
    in `tz` (with tz None it is refused); a date alone means local midnight. Other formats python-dateutil understands are
    read month first ("12/05/2026" is December 5). Raises ValueProblem saying what to write.
    """
    raw = (text or "").strip()
    if not raw:
        raise ValueProblem("the date is empty")
    try:
        parsed = dateutil_parser.isoparse(raw)
    except (ValueError, OverflowError):
        try:
            parsed = dateutil_parser.parse(raw, dayfirst=False, default=_NO_YEAR)
        except (ValueError, OverflowError) as exc:
            reason = str(exc)
            if "out of range" in reason or "must be in" in reason:
                raise ValueProblem(f"{raw!r} is not a real date ({reason})") from None
            raise ValueProblem(
                f"{raw!r} is not a date; write it as ISO 8601, e.g. 2026-12-31T18:30:00-08:00"
            ) from None
        if parsed.year == 1:
            raise ValueProblem(f"{raw!r} has no year; write the full date, e.g. 2026-12-31")
    if parsed.tzinfo is None:
        if tz is None:
            raise ValueProblem(
                f"{raw!r} has no UTC offset and no time zone is known to read it in; "
                "add the offset (e.g. -08:00) or pass --timezone, e.g. America/Los_Angeles"
            )
        parsed = localize(parsed, tz)
    return parsed.astimezone(UTC)


def parse_date(text: str) -> date:
    """A calendar date written as YYYY-MM-DD (as campaign windows and filters are given)."""
    raw = (text or "").strip()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueProblem(f"{raw!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-12-31") from None


def parse_as_of(text: str, tz: ZoneInfo) -> datetime:
    """An --as-of moment: ISO 8601 (offset or Z taken as written, naive read in `tz`); a date alone means the end of that day.

    "2026-12-20" is read as 2026-12-20 23:59:59 in `tz`, i.e. everything known by the end of that day.
    """
    raw = (text or "").strip()
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return parse_timestamp(raw, tz)
    return local_midnight(day + timedelta(days=1), tz) - timedelta(seconds=1)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """00:00 of `day` in `tz`, as an aware UTC datetime."""
    return datetime.combine(day, time(0, 0), tzinfo=tz).astimezone(UTC)


def isoformat_local(moment: datetime, tz: ZoneInfo) -> str:
    """An instant as ISO 8601 with the offset of `tz`, to the second: 2026-12-31T23:59:59-08:00."""
    return ensure_utc(moment).astimezone(tz).replace(microsecond=0).isoformat()
