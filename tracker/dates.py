"""Time: the only place that parses timestamps and handles time zones, and the window type.

Everything is stored in UTC. Each campaign has its own IANA time zone; a timestamp without an
offset ("naive") is read in the zone the caller names, never guessed. Windows are half-open:
[start, end). `Window` is a run of whole local days in a zone, optionally cut at an "as of"
moment: every "what counts up to now" in the tracker is `window.end`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tracker.errors import ConfigError, ValueProblem

UTC = timezone.utc
_NO_YEAR = datetime(1, 1, 1)
_OTHER_DEFAULT = datetime(2, 2, 2)
_ONE_TICK = timedelta(microseconds=1)  # timestamps are stored to the microsecond
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})\b")
_GMT_SIGNED = re.compile(r"(?i)\b(?:GMT|UTC|UT)\s*[+-]\s*\d")
_GMT_OFFSET = re.compile(r"^(?:GMT|UTC)\s*([+-])(\d{1,2})(?::?(\d{2}))?$")

# Zone abbreviations payment processors write in their own time-zone columns (PayPal's TimeZone),
# as fixed UTC offsets in hours. Only read where a file's column is known to hold them.
ZONE_ABBREVIATIONS = {
    "PST": -8, "PDT": -7, "MST": -7, "MDT": -6, "CST": -6, "CDT": -5, "EST": -5, "EDT": -4, "AKST": -9,
    "AKDT": -8, "HST": -10, "GMT": 0, "UTC": 0, "BST": 1, "IST": 1, "WET": 0, "WEST": 1, "CET": 1, "CEST": 2,
    "EET": 2, "EEST": 3, "AEST": 10, "AEDT": 11, "ACST": 9.5, "ACDT": 10.5, "AWST": 8, "NZST": 12, "NZDT": 13,
    "JST": 9,
}


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


def zone_from_text(text: str) -> tzinfo:
    """A time zone as an export's time-zone column writes it: an abbreviation (PST), an IANA name
    (Europe/London) or an offset (GMT-08:00). Raises ValueProblem saying what is understood."""
    t = text.strip()
    upper = t.upper()
    if upper in ZONE_ABBREVIATIONS:
        return timezone(timedelta(hours=ZONE_ABBREVIATIONS[upper]))
    offset = _GMT_OFFSET.match(upper)
    if offset:
        sign = -1 if offset.group(1) == "-" else 1
        try:
            return timezone(sign * timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3) or 0)))
        except ValueError:
            pass
    try:
        return zone(t)
    except ConfigError:
        raise ValueProblem(f"TimeZone {text!r} is not a time zone; use an abbreviation PayPal writes (PST), an IANA "
                           "name (Europe/London) or an offset (GMT-08:00)") from None


def utc_now() -> datetime:
    """The current instant in UTC. Only entry points (CLI, callbacks, jobs) call this."""
    return datetime.now(UTC)


def ensure_utc(moment: datetime) -> datetime:
    """An aware datetime converted to UTC; a naive one is refused (naive times need a zone)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: say which time zone it is in")
    return moment.astimezone(UTC)


def localize(naive: datetime, tz: tzinfo) -> datetime:
    """Attach `tz` to a naive wall-clock time (fold=0: an ambiguous hour is read as its first occurrence)."""
    return naive.replace(tzinfo=tz)


def _in_zone(parsed: datetime, raw: str, tz: tzinfo | None) -> datetime:
    """An aware UTC instant: `parsed` as written if it has an offset, else read in `tz`."""
    if parsed.tzinfo is None:
        if tz is None:
            raise ValueProblem(
                f"{raw!r} has no UTC offset and no time zone is known to read it in; "
                "add the offset (e.g. -08:00) or pass --timezone, e.g. America/Los_Angeles"
            )
        parsed = localize(parsed, tz)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueProblem(f"{raw!r} is outside the dates the tracker can store (years 1 to 9999 in UTC); "
                           "check the year") from None


def _refuse_zone_name(name: str | None, offset: int | None) -> tzinfo | None:
    """dateutil's hook for the zone of a timestamp: an offset as written, UTC and GMT as UTC, and never a
    guessed abbreviation."""
    if name is None and offset is None:
        return None  # no zone written: the caller reads it in the file's zone
    if name is None or (name.upper() in ("UTC", "GMT", "Z", "UT") and offset in (None, 0)):
        if offset is not None and abs(offset) >= 86_400:
            raise ValueProblem("the UTC offset is a day or more; write an offset from -23:59 to +23:59, e.g. -08:00")
        return timezone(timedelta(seconds=offset or 0))
    raise ValueProblem(
        f"the time zone {name!r} is an abbreviation the tracker will not guess (EST is -05:00 in New York but "
        "+10:00 in Australia); write the UTC offset instead, e.g. 2026-12-01T01:00:00-05:00"
    )


def iso_instant(text: str, tz: tzinfo | None) -> datetime | None:
    """The quick path of parse_timestamp for the common case, ISO 8601 (naive read in `tz`): the
    instant in UTC, or None for anything else (then parse_timestamp decides and explains)."""
    if len(text) < 10 or text[4] != "-" or text[7] != "-":
        return None
    try:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            if tz is None:
                return None
            parsed = parsed.replace(tzinfo=tz)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def parse_timestamp(text: str, tz: tzinfo | None, *, dayfirst: bool = False, fmt: str | None = None) -> datetime:
    """Parse a timestamp from an input file into an aware UTC datetime, by explicit rules.

    - `fmt`: a strptime format the file's times follow (then nothing else is tried);
    - ISO 8601 with an offset or Z is taken as written (the fast path: most exports write it);
    - a time without an offset (naive) is read in `tz`; with tz None it is refused;
    - other formats python-dateutil understands are read month first ("12/05/2026" is December 5),
      or day first with `dayfirst`; a numeric date whose month would be over 12 in that order is
      refused with the flag that reads it, never reordered row by row;
    - a date alone means local midnight.
    Raises ValueProblem saying what to write.
    """
    raw = (text or "").strip()
    if not raw:
        raise ValueProblem("the date is empty")
    if fmt:
        try:
            parsed = datetime.strptime(raw, fmt)
        except ValueError:
            raise ValueProblem(f"{raw!r} does not match the date format {fmt!r}") from None
        if parsed.tzinfo is None and tz is None:
            raise ValueProblem(f"{raw!r} has no UTC offset; pass --timezone")
        return _in_zone(parsed, raw, tz)
    if len(raw) >= 10 and raw[4] == "-" and raw[7] == "-":
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            pass  # let dateutil say what is wrong
        else:
            return _in_zone(parsed, raw, tz)
    if _GMT_SIGNED.search(raw):  # "GMT+3": +03:00 to people, -03:00 in POSIX (and to dateutil)
        raise ValueProblem(f"{raw!r}: GMT+N is read both ways (+N and -N hours); write the offset itself, "
                           "e.g. 2026-12-01T10:00:00+03:00")
    numeric = _NUMERIC_DATE.match(raw)
    if numeric:  # 03/02/2019: read in the order the file uses, never guessed row by row
        first, second = int(numeric.group(1)), int(numeric.group(2))
        if not 1 <= (second if dayfirst else first) <= 12:
            hint = "pass --dayfirst for this file" if not dayfirst else "this file is read day first; is it?"
            order = "day/month/year" if not dayfirst else "month/day/year"
            raise ValueProblem(f"{raw!r} reads as {order}; {hint}")
    from dateutil import parser as dateutil_parser  # the slow path only: most files write ISO 8601

    try:
        parsed = dateutil_parser.isoparse(raw)
    except (ValueError, OverflowError):
        try:
            parsed = dateutil_parser.parse(raw, dayfirst=dayfirst, default=_NO_YEAR, tzinfos=_refuse_zone_name)
        except ValueProblem:
            raise
        except (ValueError, OverflowError, TypeError) as exc:
            reason = str(exc)
            if "offset must be" in reason:
                raise ValueProblem(f"{raw!r} has a UTC offset of a day or more; write an offset from -23:59 to "
                                   "+23:59, e.g. -08:00") from None
            if "out of range" in reason or "must be in" in reason:
                raise ValueProblem(f"{raw!r} is not a real date ({reason}); correct the date") from None
            raise ValueProblem(
                f"{raw!r} is not a date; write it as ISO 8601, e.g. 2026-12-31T18:30:00-08:00"
            ) from None
        # dateutil fills what a text leaves out from its default: read it again with another default,
        # and whatever changes was never written ("Dec 2026" has no day, "12/31" no year)
        other = dateutil_parser.parse(raw, dayfirst=dayfirst, default=_OTHER_DEFAULT, tzinfos=_refuse_zone_name)
        missing = [part for part in ("year", "month", "day") if getattr(parsed, part) != getattr(other, part)]
        if missing:
            raise ValueProblem(f"{raw!r} has no {' and no '.join(missing)}; write the full date, e.g. 2026-12-31")
    return _in_zone(parsed, raw, tz)


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


@dataclass(frozen=True)
class Window:
    """Whole local days `first` to `last` (both included) in the zone `tz`, optionally cut at `as_of`.

    In UTC it is [starts_at, ends_at): 00:00 local of the first day to 00:00 local of the day after
    the last, so a December window's deadline is December 31 23:59:59 local. With `as_of`, what
    counts is what happened by then: [starts_at, end), `end` being the earlier of ends_at and the
    instant just after as_of (as_of itself counts).
    """

    first: date
    last: date
    tz: ZoneInfo
    as_of: datetime | None = None

    @cached_property
    def starts_at(self) -> datetime:
        return local_midnight(self.first, self.tz)

    @cached_property
    def ends_at(self) -> datetime:
        """The exclusive end of the whole window, whatever `as_of` says."""
        return local_midnight(self.last + timedelta(days=1), self.tz)

    @property
    def deadline(self) -> datetime:
        """The window's last second, in UTC."""
        return self.ends_at - timedelta(seconds=1)

    @cached_property
    def end(self) -> datetime:
        """The exclusive end of what counts: ends_at, or just after as_of when that comes first."""
        if self.as_of is None:
            return self.ends_at
        return min(self.ends_at, ensure_utc(self.as_of) + _ONE_TICK)

    @property
    def last_instant(self) -> datetime:
        """The last instant that counts (the as-of of everything in the window so cut)."""
        return self.end - _ONE_TICK

    @property
    def opened(self) -> bool:
        """Whether any of the window has passed by as_of (so there is something to count)."""
        return self.end > self.starts_at

    @property
    def closed(self) -> bool:
        """Whether the whole window has passed by as_of."""
        return self.end >= self.ends_at

    def at(self, as_of: datetime | None) -> Window:
        """The same days, cut at another moment."""
        return replace(self, as_of=as_of)

    @property
    def days(self) -> int:
        """How many local days the window has."""
        return (self.last - self.first).days + 1

    @property
    def seconds(self) -> int:
        """The whole window's length in seconds (23 or 25-hour days included)."""
        return int((self.ends_at - self.starts_at).total_seconds())

    def end_of_day(self, n: int) -> datetime:
        """The end of the window's day n (1 = the first day), in UTC."""
        return local_midnight(self.first + timedelta(days=n), self.tz)

    def local_date(self, moment: datetime) -> date:
        return ensure_utc(moment).astimezone(self.tz).date()

    @property
    def last_day(self) -> date:
        """The last local day that counts: the window's last, or the day of as_of when that comes first."""
        if self.as_of is None:
            return self.last
        return min(self.last, self.local_date(self.as_of))

    def narrowed(self, first: date | None = None, last: date | None = None) -> Window:
        """The days of this window from `first` to `last` (each clipped to the window)."""
        return replace(self, first=max(first, self.first) if first else self.first,
                       last=min(last, self.last) if last else self.last)
