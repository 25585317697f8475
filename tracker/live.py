"""Figures kept between reads and brought up to date from what changed since: the campaign numbers that would
otherwise be worked out over every gift of the window (and of the years behind it) at each change.

A long-running reader (the dashboard) owns one `Live` and hands it to tracker.service. For each campaign it
keeps, as of the change marks it last read (queries.change_marks: the newest gift and history row, undos and
closes):

- each donor's figures in the window (segment, cents, recurring and one-time gifts) and their sums, which are
  the donor segments; and last campaign's donors with what they gave (LYBUNT and the retention rate);
- the new recurring donors and what each adds a month;
- raised by local day and channel;
- the earlier campaigns' curves and their backtest.

When the marks move, only the donors and days of the gifts created or changed since (and of the gifts the moment
shown has moved past) are read again: one donor's figures depend on that donor's gifts only, one day's on that
day's. A change to a gift dated before the campaign began drops what was kept of the earlier years; an undo, a
close or a reopening, more changes than LIMIT, a moment earlier than the kept one or a campaign with a closed
period in its window are worked out afresh, as without a `Live`. The figures are the same either way, to the
cent (a test compares them after random changes).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from tracker import queries
from tracker.campaign import Segment, Segments
from tracker.dates import ensure_utc
from tracker.models import Campaign

LIMIT = 20_000  # changed gifts past which everything is read again (an import)
KEPT = 4  # campaigns kept (each holds its donors: 50,000 donors and 86,000 last year took about 60 MB)


@dataclass
class _Kept:
    """One campaign's kept figures, as of `marks` and the window's end `end`."""

    marks: tuple
    end: datetime
    donors: dict[int, tuple] = field(default_factory=dict)  # donor -> (segment or None, cents, rn, rc, on, oc)
    sums: dict[str, list[int]] = field(default_factory=dict)  # segment, "rec", "one", "back" -> [count, cents]
    previous: dict[int, int] | None = None  # last campaign's donors -> cents given there
    previous_for: tuple | None = None  # (its slug, its end) that `previous` was read for
    days: dict[date, list[tuple[str, int]]] = field(default_factory=dict)  # local day -> [(channel, cents)]
    recurring: dict[int, int] = field(default_factory=dict)  # new recurring donor -> cents a month
    earlier: dict = field(default_factory=dict)  # the earlier campaigns' curves and backtest, by their key


def _key(c: Campaign) -> tuple:
    return (c.id, c.starts_at, c.ends_at, c.currency, c.raised_basis, c.timezone)


class Live:
    """Kept figures for the campaigns read through it (thread-safe: one campaign is brought up to date at a time)."""

    def __init__(self) -> None:
        self._kept: dict[tuple, _Kept] = {}
        self._lock = threading.RLock()
        self.rebuilt = self.updated = 0  # how often everything was read, and how often only what changed

    # -- the figures ------------------------------------------------------------------------

    def segments(self, session: Session, campaign: Campaign, as_of: datetime,
                 previous: Campaign | None) -> Segments | None:
        """queries.segments' figures with `lybunt_of` filled (as tracker.service does); None when they are to be
        worked out as without a Live (a closed period in the window, or the window not open yet)."""
        with self._lock:
            kept = self._window(session, campaign, as_of)
            if kept is None:
                return None
            self._previous(session, campaign, kept, previous)
            s = kept.sums
            lybunt, of = Segment(), 0
            if kept.previous is not None:
                of = len(kept.previous)
                lybunt = Segment(of - s["back"][0], sum(kept.previous.values()) - s["back"][1])
            return Segments(new=Segment(*s["new"]), retained=Segment(*s["retained"]),
                            reactivated=Segment(*s["reactivated"]), lybunt=lybunt,
                            lybunt_campaign=previous.slug if previous else None,
                            recurring=Segment(*s["rec"]), one_time=Segment(*s["one"]), lybunt_of=of)

    def channel_days(self, session: Session, campaign: Campaign, as_of: datetime):
        """queries.channel_days of the window at `as_of`, or None (as `segments`)."""
        import pandas as pd

        with self._lock:
            kept = self._window(session, campaign, as_of)
            if kept is None:
                return None
            rows = [(d, ch, cents) for d in sorted(kept.days) for ch, cents in kept.days[d]]
        return pd.DataFrame(rows, columns=["day", "channel", "cents"])

    def new_recurring(self, session: Session, campaign: Campaign, as_of: datetime) -> tuple[int, int] | None:
        """queries.new_recurring at `as_of`, or None (as `segments`)."""
        with self._lock:
            kept = self._window(session, campaign, as_of)
            if kept is None:
                return None
            return len(kept.recurring), sum(kept.recurring.values())

    def earlier(self, session: Session, campaign: Campaign, as_of: datetime, key: tuple, compute):
        """`compute()` (figures of the earlier campaigns only, named by `key`), kept until a gift dated before
        the campaign began changes."""
        with self._lock:
            kept = self._window(session, campaign, as_of)
            if kept is None:
                return compute()
            if key not in kept.earlier:
                kept.earlier[key] = compute()
            return kept.earlier[key]

    # -- keeping them up to date ------------------------------------------------------------

    def _window(self, session: Session, c: Campaign, as_of: datetime) -> _Kept | None:
        """The campaign's kept figures brought up to `as_of` and the current marks (None: not kept, see above)."""
        window = c.window_at(ensure_utc(as_of))
        if not window.opened or queries.closed_between(session, c.starts_at, window.end):
            return None
        end = window.end
        marks = queries.change_marks(session)  # first: whatever commits after it is seen next time
        kept = self._kept.get(_key(c))
        if kept is not None and end < kept.end:
            return None  # an earlier moment: worked out as without a Live, keeping the later one
        if kept is not None and kept.marks[2:] != marks[2:]:
            kept = None  # an undo, a close or a reopening
        changed = None
        if kept is not None and (kept.marks != marks or kept.end != end):
            changed = queries.changed_gifts(session, kept.marks[0], kept.marks[1], LIMIT)
            if changed is not None and end > kept.end:  # and the gifts the moment has moved past
                changed += queries.gifts_dated_between(session, c.currency, kept.end, end)
            if changed is None or len(changed) > LIMIT:
                kept = None
        if kept is None:
            kept = self._kept[_key(c)] = self._build(session, c, window, marks)
            while len(self._kept) > KEPT:
                self._kept.pop(next(iter(self._kept)))
            return kept
        if changed:
            if any(at < c.starts_at for _, at in changed):
                kept.earlier.clear()
                kept.previous_for = None
            self._update_donors(session, c, kept, window, {d for d, _ in changed})
            self._update_days(session, c, kept, window,
                              {window.local_date(at) for _, at in changed if c.starts_at <= at < end})
            self.updated += 1
        kept.marks, kept.end = marks, end
        return kept

    def _build(self, session: Session, c: Campaign, window, marks: tuple) -> _Kept:
        self.rebuilt += 1
        kept = _Kept(marks=marks, end=window.end)
        kept.sums = {k: [0, 0] for k in ("new", "retained", "reactivated", "rec", "one", "back")}
        for row in queries.donor_window_figures(session, c, window.end):
            self._put(kept, row[0], row[1:])
        kept.recurring = queries.new_recurring_donors(session, c, window.last_instant)
        self._update_days(session, c, kept, window, None)
        return kept

    def _previous(self, session: Session, c: Campaign, kept: _Kept, previous: Campaign | None) -> None:
        """Last campaign's donors (kept until a gift dated before the campaign changes), and who of them is back."""
        wanted = None if previous is None else (previous.slug, previous.window_at(kept.end).end)
        if kept.previous_for == wanted and (kept.previous is not None or wanted is None):
            return
        kept.previous_for = wanted
        kept.previous = None if previous is None else queries.campaign_donor_cents(
            session, previous, c.raised_basis, kept.end)
        back = [0, 0]
        if kept.previous:
            for donor, figures in kept.donors.items():
                if donor in kept.previous and figures[2] + figures[4] > 0:
                    back[0] += 1
                    back[1] += kept.previous[donor]
        kept.sums["back"] = back

    def _put(self, kept: _Kept, donor: int, figures: tuple | None) -> None:
        """Replace a donor's figures (None: no counted gift in the window), keeping the sums."""
        s = kept.sums
        for sign, f in ((-1, kept.donors.pop(donor, None)), (1, figures)):
            if f is None:
                continue
            kind, cents, rn, rc, on, oc = f
            if kind is not None:
                s[kind][0] += sign
                s[kind][1] += sign * cents
            s["rec"][0] += sign * rn
            s["rec"][1] += sign * rc
            s["one"][0] += sign * on
            s["one"][1] += sign * oc
            if kept.previous and donor in kept.previous and rn + on > 0:
                s["back"][0] += sign
                s["back"][1] += sign * kept.previous[donor]
        if figures is not None:
            kept.donors[donor] = figures

    def _update_donors(self, session: Session, c: Campaign, kept: _Kept, window, donors: set[int]) -> None:
        ids = sorted(donors)
        for i in range(0, len(ids), 5000):
            part = ids[i:i + 5000]
            found = {row[0]: row[1:] for row in queries.donor_window_figures(session, c, window.end, part)}
            for donor in part:
                self._put(kept, donor, found.get(donor))
            recurring = queries.new_recurring_donors(session, c, window.last_instant, part)
            for donor in part:
                kept.recurring.pop(donor, None)
            kept.recurring.update(recurring)

    def _update_days(self, session: Session, c: Campaign, kept: _Kept, window, days: set[date] | None) -> None:
        """Read again raised by channel on `days` (None: the whole window)."""
        if days is None:
            kept.days = {}
            frames = [queries.channel_days(session, c, window)]
        else:
            frames = []
            for d in sorted(days):
                kept.days.pop(d, None)
                frames.append(queries.channel_days(session, c, window.narrowed(d, d)))
        for frame in frames:
            for d, ch, cents in frame.itertuples(index=False):
                kept.days.setdefault(d, []).append((ch, int(cents)))
