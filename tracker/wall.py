"""What the wall screen shows: the campaign's status, last year at this moment, the last hour, and the
money raised in each of the last 48 hours. Aggregates only: no donor is named or counted one by one.

`wall_view` reads (through tracker.service and tracker.queries); the hours are the Overview's
(tracker.service.hourly: whole hours back from the deadline, so the campaign's local hours).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tracker import campaign as cm, queries, service
from tracker.dates import ensure_utc
from tracker.live import Live
from tracker.models import Campaign

HOURS = 48  # the chart's span, and the span in which time left is told in hours and minutes
HOUR = 3600


@dataclass(frozen=True)
class WallView:
    status: cm.Status
    last_year: cm.Comparison | None  # the newest earlier campaign at the same campaign day and hour
    last_hour_cents: int
    last_hour_gifts: int
    hours: tuple[tuple[datetime, int, int], ...]  # (hour start, UTC; cents; gifts) for the last HOURS hours, oldest first


def time_left_text(seconds: int) -> str:
    """Time left on the wall: in the last HOURS hours as hours and minutes ("31 h 05 min"), before that as
    tracker.campaign says it ("12 days 5 hours"), then "closed"."""
    if 0 < seconds <= HOURS * HOUR:
        h, rest = divmod(seconds, HOUR)
        return f"{h} h {rest // 60:02d} min"
    return cm.time_left_text(seconds)


def wall_view(session: Session, campaign: Campaign, *, as_of: datetime, live: Live | None = None) -> WallView:
    """The wall for `campaign` at `as_of` (`live`: figures kept between reads, tracker.live)."""
    as_of = ensure_utc(as_of)
    st = service.campaign_status(session, campaign, as_of=as_of, live=live)
    window = campaign.window_at(as_of)
    end = as_of + timedelta(microseconds=1)  # as-of counts
    start = max(window.starts_at, end - timedelta(hours=1))
    cents, gifts = (queries.raised_between(session, campaign.currency, start, window.end, campaign.raised_basis)
                    if window.opened and start < window.end else (0, 0))
    series = service.hourly(session, campaign, as_of=as_of, hours=HOURS)  # the Overview's hours, the same figures
    return WallView(status=st, last_year=st.comparisons[-1] if st.comparisons else None,
                    last_hour_cents=cents, last_hour_gifts=gifts,
                    hours=tuple(zip(series.hours, series.cents, series.gifts)))
