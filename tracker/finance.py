"""The finance exports as one call, shared by `tracker export` and the dashboard's downloads.

One session, the moment an argument. Personal-data exports are recorded in the audit log here, under
the actor the entry point names (an OS user or a dashboard login), before the first row is written:
the entry point passes `record` (`record_apart`), which commits the entry in a transaction of its own,
so a reader that stops early (`| head`) or a download cut short is still recorded.

An export covers a campaign's window (narrowed by from/to), or any range of local days without a
campaign (`period`: the organization's zone and currency) for the RANGE_KINDS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import IO
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from tracker import export, queries
from tracker.dates import Window, isoformat_local, parse_date
from tracker.errors import UsageError, ValueProblem
from tracker.models import AuditEntry, Campaign

KINDS = ("donations", "daily", "channels", "appeals", "donors", "lybunt", "reconciliation", "pledges")
PERSONAL_KINDS = ("donations", "donors", "lybunt", "pledges")  # personal data on request (names, e-mails)
DONOR_LEVEL_KINDS = PERSONAL_KINDS  # one row per gift or donor: never for a dashboard viewer
RANGE_KINDS = ("donations", "daily", "channels", "reconciliation")  # also for local days without a campaign
CAMPAIGN_KINDS = tuple(k for k in KINDS if k not in RANGE_KINDS)  # segments, LYBUNT, variants: a campaign's


def period(session: Session, from_: str | None, to: str | None, *, tz: ZoneInfo | None, currency: str) -> Campaign:
    """Local days `from_` to `to` (both included, both needed) in the organization's zone `tz`, without a campaign:
    a Campaign that is never stored (no goal; the campaigns' raised basis when they share one, else gross), which
    every query of the RANGE_KINDS takes as it takes a campaign.

    Raises UsageError (field "from/to") when a day is missing, unreadable or the days run backwards, and when
    there is no zone to read them in."""
    if not from_ or not to:
        raise UsageError("an export without a campaign needs both --from and --to (local days, YYYY-MM-DD); or name "
                         "the campaign with --campaign", field="from/to")
    if tz is None:
        raise UsageError("the days are read in the organization's time zone, and the campaigns do not share one; "
                         "set TRACKER_TIMEZONE (e.g. America/New_York), pass --timezone, or name the campaign with "
                         "--campaign")
    try:
        first, last = parse_date(from_), parse_date(to)
    except ValueProblem as exc:
        raise UsageError(str(exc), field="from/to") from None
    if last < first:
        raise UsageError(f"the last day {last} is before the first {first}", field="from/to")
    bases = queries.campaign_bases(session)
    return Campaign(slug=f"{first}-to-{last}", name=f"{first} to {last}", goal_cents=0, currency=currency,
                    timezone=tz.key, start_date=first, end_date=last,
                    raised_basis=bases.pop() if len(bases) == 1 else "gross")


def record_apart(sessions) -> Callable[[AuditEntry], None]:
    """A `record` for write(): each audit entry committed at once in a transaction of its own."""
    def record(entry: AuditEntry) -> None:
        with sessions.begin() as own:
            own.add(entry)
    return record


def window(c: Campaign, from_: str | None, to: str | None, moment: datetime) -> Window:
    """The campaign's local days from `from_` to `to` (both included, each clipped to the campaign), cut at `moment`.

    Raises UsageError naming the field "from/to" when a date cannot be read or the days run backwards."""
    try:
        first = parse_date(from_) if from_ else None
        last = parse_date(to) if to else None
    except ValueProblem as exc:
        raise UsageError(str(exc), field="from/to") from None
    w = c.window.narrowed(first, last).at(moment)
    if w.last < w.first:
        raise UsageError(f"the last day {w.last} is before the first {w.first} (or outside {c.start_date} to "
                         f"{c.end_date})", field="from/to")
    return w


def write(session: Session, c: Campaign, kind: str, fh: IO[str], w: Window, moment: datetime, *,
          personal: bool = False, excel: bool = False, actor: str = "", destination: str = "",
          now: datetime | None = None, record: Callable[[AuditEntry], None] | None = None) -> tuple[int, bool]:
    """Write one export to `fh` (a text file or an XlsxSheet); (rows written, whether it ties to the cent).

    `c` is a campaign, or a `period` (not stored: RANGE_KINDS only). `moment` is the as-of of the figures;
    `now` (the real time) and `actor` go into the audit log, through `record` before the first row is written
    (default: added to `session`, so it commits with it)."""
    if kind not in KINDS:
        raise UsageError(f"unknown export {kind!r}; the kinds are {', '.join(KINDS)}")
    if personal and kind not in PERSONAL_KINDS:
        raise UsageError(f"names and e-mails apply to the {', '.join(PERSONAL_KINDS)} exports only")
    ranged = c.id is None
    if ranged and kind not in RANGE_KINDS:
        raise UsageError(f"the {kind} export needs a campaign (--campaign SLUG): {', '.join(RANGE_KINDS)} work for "
                         "any local days", field="campaign")

    def audited(rows: int) -> None:
        if not personal:
            return
        what = f"local days {w.first} to {w.last} ({c.timezone}, no campaign)" if ranged else \
            f"campaign {c.slug}, {w.first} to {w.last}"
        entry = AuditEntry(at=now or moment, actor=actor or "unknown", action=f"export {kind} with personal data",
                           rows=rows, detail=f"{what}, as of {isoformat_local(moment, c.tz)}, "
                                             f"to {destination or 'standard output'}")
        (record or session.add)(entry)

    rows, ties = 0, True
    if kind == "donations":
        if personal:
            audited(queries.count_donations(session, c, w.starts_at, w.end))
        rows = export.write_donations(fh, queries.export_donations(session, c, w.starts_at, w.end, personal=personal),
                                      c.tz, personal=personal, excel=excel)
    elif kind == "donors":
        found = queries.export_donors(session, c, w.last_instant, personal=personal)
        audited(len(found))
        rows = export.write_donors(fh, found, c.tz, personal=personal, excel=excel)
    elif kind == "lybunt":
        earlier = queries.earlier_campaigns(session, c, moment)
        if not earlier:
            raise UsageError(f"{c.slug} has no earlier campaign in {c.currency}, so it has no LYBUNT donors")
        found = queries.export_lybunt(session, c, earlier[-1], moment, personal=personal)
        audited(len(found))
        rows = export.write_lybunt(fh, found, earlier[-1].slug, personal=personal, excel=excel)
    elif kind == "pledges":
        from tracker.pledges import list_pledges

        found = list_pledges(session, as_of=moment, campaign=c)
        audited(len(found))
        rows = export.write_pledges(fh, found, c.tz, personal=personal, excel=excel)
    elif kind == "channels":
        rows = export.write_channels(fh, queries.channel_breakdown(session, c, w.starts_at, w.end), excel=excel)
    elif kind == "appeals":
        from tracker.service import appeal_report

        if not queries.list_variants(session, c):
            raise UsageError(f"{c.slug} has no popup variants yet; load them with: tracker appeals load FILE.toml")
        report = appeal_report(session, c, as_of=w.last_instant)
        rows = export.write_appeals(fh, report, excel=excel)
    elif kind == "daily":
        rows = export.write_daily(fh, queries.day_breakdown(session, c, w.first, w.last, w.end), c.goal_cents,
                                  excel=excel)
    else:
        r = reconciliation(session, c, w)
        ties = export.write_reconciliation(fh, r.by_source, r.days, r.status_cents, files=r.files,
                                          duplicates=r.duplicates, tz=c.tz, excel=excel, match=r.match)
    return rows, ties


def audit(session: Session, *, actor: str, action: str, detail: str, rows: int, now: datetime) -> None:
    """Record an action on personal data (tracker audit list)."""
    session.add(AuditEntry(at=now, actor=actor or "unknown", action=action, detail=detail, rows=rows))


@dataclass(frozen=True)
class Reconciliation:
    by_source: list[tuple]  # (source, gifts, gross, refunds, fees, raised)
    days: list
    status_cents: int  # what `tracker status` counts as raised over the same window
    files: list = ()  # export.FileTotal of the imports made since the campaign opened
    duplicates: tuple[int, int] = (0, 0)  # likely duplicate pairs awaiting a decision and the cents counted twice
    by_currency: list = ()  # (currency given, gifts, given, gross, raised) of the gifts converted from another currency
    match: object = None  # tracker.matching.MatchSummary of the campaign's pools at the window's moment; None: none

    @property
    def by_source_cents(self) -> int:
        return sum(r[5] for r in self.by_source)

    @property
    def by_day_cents(self) -> int:
        return sum(d.raised_cents for d in self.days)

    @property
    def ties(self) -> bool:
        return self.by_source_cents == self.by_day_cents == self.status_cents


def reconciliation(session: Session, c: Campaign, w: Window) -> Reconciliation:
    """Raised over the window three ways: by source and by day from the gifts, and as `tracker status`
    counts it (from the rollups, a separate path)."""
    days = queries.day_breakdown(session, c, w.first, w.last, w.end)
    status = queries.raised_between(session, c.currency, w.starts_at, w.end, c.raised_basis)[0] if w.opened else 0
    files = [export.FileTotal(*row) for row in queries.file_totals(session, w.starts_at, w.as_of or w.last_instant)] if w.opened else []
    match = None
    if c.id is not None:  # a campaign's pools (a range of days without a campaign has none)
        from tracker.service import match_summary

        match = match_summary(session, c, as_of=w.as_of or w.last_instant)
        match = match if match.pools else None
    return Reconciliation(queries.source_breakdown(session, c, w.starts_at, w.end), days, status, files,
                          queries.undecided_duplicates(session, c, w.as_of),
                          queries.currency_breakdown(session, c, w.starts_at, w.end), match)
