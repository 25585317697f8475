"""Crontab expressions: reading them, and translating them into APScheduler cron triggers.

Five fields, minute hour day-of-month month day-of-week, read in a given time zone (each job's
campaign's); a sixth, seconds, may come first. Day-of-week numbers are crontab's (0 or 7 =
Sunday), which APScheduler 3 counts differently (0 = Monday): they are passed on as day names.
When both day-of-month and day-of-week are restricted, both must match (APScheduler's rule).
Slots, the fire times a delivery is recorded under, are written as UTC ISO 8601 (`slot_key`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tracker.dates import UTC, ensure_utc, parse_timestamp

WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _weekday(token: str) -> int:
    token = token.strip().lower()
    if token[:3] in WEEKDAYS and token.isalpha():
        return WEEKDAYS.index(token[:3])
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token)
    raise ValueError(f"day of week {token!r} is not 0-7 or a day name such as mon")


def weekdays_for_apscheduler(field: str) -> str:
    """A crontab day-of-week field (0 or 7 = Sunday) as day names: APScheduler 3 counts 0 as Monday."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        span, _, step_text = part.partition("/")
        if step_text and not (step_text.isdigit() and int(step_text) > 0):
            raise ValueError(f"step {step_text!r} in the day of week must be a whole number above 0")
        step = int(step_text or 1)
        if span == "*":
            low, high = 0, 6
        elif "-" in span:
            low, high = (_weekday(t) for t in span.split("-", 1))
        else:
            low = _weekday(span)
            high = 6 if step_text else low
        if low > high:
            raise ValueError(f"the day-of-week range {span!r} runs backwards")
        days.update(d % 7 for d in range(low, high + 1, step))
    return ",".join(WEEKDAYS[d] for d in sorted(days))


def make_trigger(expr: str, tz: ZoneInfo):
    """An APScheduler cron trigger for a crontab expression read in `tz` (ValueError says what is wrong)."""
    from apscheduler.triggers.cron import CronTrigger

    fields = expr.split()
    if len(fields) not in (5, 6):
        raise ValueError("a cron expression has 5 fields: minute hour day-of-month month day-of-week "
                         "(or 6, with seconds first)")
    second = fields.pop(0) if len(fields) == 6 else "0"
    minute, hour, day, month, dow = fields
    return CronTrigger(second=second, minute=minute, hour=hour, day=day, month=month,
                       day_of_week=weekdays_for_apscheduler(dow), timezone=tz)


def check_cron(expr: str) -> None:
    """Raise ValueError saying what is wrong with a crontab expression; nothing when it is good."""
    make_trigger(expr, UTC)


def fire_times(trigger, after: datetime, until: datetime) -> list[datetime]:
    """The trigger's fire times in (after, until], in UTC."""
    out, t = [], trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
    while t is not None and t <= until:
        out.append(t.astimezone(UTC))
        t = trigger.get_next_fire_time(t, t + timedelta(microseconds=1))
    return out


def due_slot(trigger, now: datetime, grace: timedelta) -> datetime | None:
    """The latest fire time within the grace period up to now: the slot to deliver (older misses coalesce)."""
    times = fire_times(trigger, now - grace, now)
    return times[-1] if times else None


def slot_key(slot: datetime) -> str:
    """The key a scheduled slot is recorded under: its UTC time, 2026-12-31T16:00:00Z."""
    return ensure_utc(slot).strftime("%Y-%m-%dT%H:%M:%SZ")


def slot_time(key: str) -> datetime | None:
    """The instant of a slot key (None for a key that is not a time, such as an alert's)."""
    if not key[:1].isdigit():
        return None
    return parse_timestamp(key, UTC)
