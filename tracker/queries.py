"""Every read of the database lives here. Aggregates run in the database.

Functions take the session first, never commit, and return ORM rows of small tables or small
dataclasses. Windows are half-open [start, end); "as of" is inclusive (gifts at or before it).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import and_, case, func, null, or_, select, union_all
from sqlalchemy.orm import Session, aliased

from tracker.campaign import Change, FiscalShare, Segment, Segments
from tracker.dates import UTC, Window, ensure_utc, local_midnight
from tracker.errors import NotFound, UsageError
from tracker.models import CLOSED_CACHE, COUNTED_STATUSES, AppealDaily, ClosedPeriod, closed_buckets, closed_donors, closed_gifts, AuditEntry, AppealEvent, AppealCopyVersion, AppealVariant, Campaign, CampaignChange, DataRevision, Donation, Donor, GiftBucket, GiftDetail, MatchChange, MatchPool, ImportBatch, LoginThrottle, ReportRun, ServerSecret, User, WebSession
from tracker.matching import Gift as MatchGift
from tracker.rollups import BUCKET_SECONDS

NET = Donation.amount_cents - Donation.refunded_cents
# The one rule for fees and net (README: Exports): a gift's fee is taken off only when the gift counts and kept
# something after refunds; a fully refunded gift did not happen, so its fee is not (tracker.export.DonationRow.net_cents)
FEE_TAKEN = case((NET > 0, func.coalesce(Donation.fee_cents, 0)), else_=0)


def list_campaigns(session: Session) -> list[Campaign]:
    """All campaigns, newest window first."""
    return list(session.scalars(select(Campaign).order_by(Campaign.start_date.desc(), Campaign.slug)))


def get_campaign(session: Session, slug: str | None = None) -> Campaign:
    """The campaign named `slug`; with no slug, the only campaign there is.

    Raises NotFound (an unknown slug, or no campaign at all) or UsageError (several, none chosen),
    with field "campaign" and the slugs there are as choices, for each edge to say how to choose.
    """
    if slug:
        found = session.scalar(select(Campaign).where(Campaign.slug == slug))
        if found is None:
            known = [c.slug for c in list_campaigns(session)]
            raise NotFound(f"no campaign {slug!r}", field="campaign", choices=known, kind="unknown")
        return found
    campaigns = list_campaigns(session)
    if not campaigns:
        raise NotFound("there are no campaigns yet", field="campaign", kind="none")
    if len(campaigns) > 1:
        slugs = [c.slug for c in campaigns]
        raise UsageError(f"there are {len(campaigns)} campaigns ({', '.join(slugs)})", field="campaign",
                         choices=slugs, kind="missing")
    return campaigns[0]


def campaign_exists(session: Session, slug: str) -> bool:
    return session.scalar(select(func.count()).select_from(Campaign).where(Campaign.slug == slug)) > 0


def campaign_changes(session: Session, campaign: Campaign) -> tuple[Change, ...]:
    """The campaign's edits (tracker campaign edit), oldest first."""
    rows = session.execute(
        select(CampaignChange.at, CampaignChange.actor, CampaignChange.field, CampaignChange.old_value,
               CampaignChange.new_value)
        .where(CampaignChange.campaign_id == campaign.id).order_by(CampaignChange.at, CampaignChange.id))
    return tuple(Change(*row) for row in rows)


def window_moves(session: Session, currency: str, basis: str, old: tuple[datetime, datetime],
                 new: tuple[datetime, datetime]) -> tuple[tuple[int, int], tuple[int, int]]:
    """((gifts, cents) moving into the window, (gifts, cents) moving out of it) when a campaign's window
    [start, end) changes from `old` to `new`: counted gifts in `currency`, every one stored (no as-of),
    cents by the campaign's raised `basis`."""
    def inside(window):
        return and_(Donation.donated_at >= window[0], Donation.donated_at < window[1])

    raised = _raised(basis)
    counted = and_(Donation.status.in_(COUNTED_STATUSES), Donation.currency == currency)
    row = session.execute(select(
        func.count(case((and_(inside(new), ~inside(old)), Donation.id))),
        func.coalesce(func.sum(case((and_(inside(new), ~inside(old)), raised), else_=0)), 0),
        func.count(case((and_(inside(old), ~inside(new)), Donation.id))),
        func.coalesce(func.sum(case((and_(inside(old), ~inside(new)), raised), else_=0)), 0),
    ).where(counted, or_(inside(old), inside(new)))).one()
    return (int(row[0]), int(row[1])), (int(row[2]), int(row[3]))


def campaign_references(session: Session, campaign: Campaign) -> dict[str, int]:
    """What refers to a campaign, by kind: its counted gifts (in its window and currency, every one stored),
    report runs (reports and alerts sent or tried), popup variants, their copy versions, its edits and its match
    pools."""
    w = campaign.window
    return {
        "gifts": session.scalar(select(func.count()).select_from(Donation)
                                .where(_counted_between(campaign.currency, w.starts_at, w.ends_at))),
        "report_runs": session.scalar(select(func.count()).select_from(ReportRun)
                                      .where(ReportRun.campaign_id == campaign.id)),
        "variants": session.scalar(select(func.count()).select_from(AppealVariant)
                                   .where(AppealVariant.campaign_id == campaign.id)),
        "copy_versions": session.scalar(select(func.count()).select_from(AppealCopyVersion)
                                        .join(AppealVariant, AppealVariant.id == AppealCopyVersion.variant_id)
                                        .where(AppealVariant.campaign_id == campaign.id)),
        "changes": session.scalar(select(func.count()).select_from(CampaignChange)
                                  .where(CampaignChange.campaign_id == campaign.id)),
        "match_pools": session.scalar(select(func.count()).select_from(MatchPool)
                                      .where(MatchPool.campaign_id == campaign.id)),
    }


def campaign_timezones(session: Session) -> set[str]:
    """The time zones of the campaigns."""
    return set(session.scalars(select(Campaign.timezone).distinct()))


def campaign_bases(session: Session) -> set[str]:
    """The raised bases (gross, net_of_fees) of the campaigns."""
    return set(session.scalars(select(Campaign.raised_basis).distinct()))


def campaign_currencies(session: Session) -> set[str]:
    """The currencies of the campaigns."""
    return set(session.scalars(select(Campaign.currency).distinct()))


def _raised(basis: str, d=Donation):
    """What a gift adds to "raised": its amount minus refunds (gross of fees), or also minus fees (net_of_fees).
    `d`: Donation, or an alias of it (the gifts as booked, `_gifts_as_booked`).

    The fee of a fully refunded gift is not taken off: that gift did not happen (exports still show the fee).
    """
    net = NET if d is Donation else d.amount_cents - d.refunded_cents
    if basis == "net_of_fees":
        return net - (FEE_TAKEN if d is Donation else case((net > 0, func.coalesce(d.fee_cents, 0)), else_=0))
    return net


def _bucket_raised(basis: str, b=GiftBucket):
    raised = b.amount_cents - b.refunded_cents
    return raised - b.fee_cents if basis == "net_of_fees" else raised


def _epoch(moment: datetime) -> int:
    return int(ensure_utc(moment).timestamp())


def _instant(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _closed(session: Session) -> list[tuple[int, datetime, datetime]]:
    """(id, start, end) of the closed periods (tracker.closing): their figures are read from the copy taken at
    the close, so nothing after it changes them."""
    found = session.info.get(CLOSED_CACHE)  # read once per session: a status asks a dozen times
    if found is None:
        found = session.info[CLOSED_CACHE] = [(i, ensure_utc(s), ensure_utc(e)) for i, s, e in session.execute(
            select(ClosedPeriod.id, ClosedPeriod.starts_at, ClosedPeriod.ends_at)
            .where(ClosedPeriod.reopened_at.is_(None)))]
    return found


def _buckets(session: Session, closed: list | None = None):
    """The quarter-hour rollups as the figures read them: the live ones, except in closed periods, where they are
    the copy taken at the close. GiftBucket itself when nothing is closed."""
    closed = _closed(session) if closed is None else closed
    if not closed:
        return GiftBucket
    gb = GiftBucket.__table__
    names = [c.name for c in gb.columns]
    outside = and_(*[or_(gb.c.bucket < _epoch(s), gb.c.bucket >= _epoch(e)) for _, s, e in closed])
    view = union_all(
        select(*[gb.c[n] for n in names]).where(outside),
        select(*[closed_buckets.c[n] for n in names]).where(closed_buckets.c.period_id.in_([i for i, _, _ in closed])),
    ).subquery("buckets")
    return aliased(GiftBucket, view, adapt_on_names=True)


def _raw_raised(session: Session, closed: list, currency: str, start: datetime, end: datetime, basis: str):
    """(cents raised, gifts with a positive net) by the gifts themselves donated in [start, end) (a part of a quarter
    hour): the closed period's copy of them when the range is in one."""
    period = next((i for i, s, e in closed if s <= start and end <= e), None)
    d = Donation
    if period is not None:
        d = aliased(Donation, select(closed_gifts).where(closed_gifts.c.period_id == period).subquery("copy"),
                    adapt_on_names=True)
    net, _ = _parts(d)
    row = session.execute(select(func.coalesce(func.sum(_raised(basis, d)), 0), func.count(case((net > 0, d.id))))
                          .where(_counted_between(currency, start, end, d))).one()
    return int(row[0]), int(row[1])


def _parts(d):
    """(net, fee taken off) of gifts `d` (Donation or an alias of it): the one rule for fees and net."""
    if d is Donation:
        return NET, FEE_TAKEN
    net = d.amount_cents - d.refunded_cents
    return net, case((net > 0, func.coalesce(d.fee_cents, 0)), else_=0)


def _counted_between(currency: str, start: datetime, end: datetime, d=Donation):
    """Counted gifts in `currency` donated in [start, end) (of `d`: Donation or an alias of it)."""
    return and_(
        d.status.in_(COUNTED_STATUSES),
        d.currency == currency,
        d.donated_at >= start,
        d.donated_at < end,
    )


def raised_between(session: Session, currency: str, start: datetime, end: datetime, basis: str = "gross") -> tuple[int, int]:
    """(cents raised, gifts with a positive net) by counted gifts donated in [start, end).

    Whole quarter hours come from the gift_buckets rollup; the parts of the range that are not
    whole quarter hours (at most 15 minutes at each end) from the gifts themselves.
    """
    s, e = _epoch(start), _epoch(end)
    inner_s, inner_e = -(-s // BUCKET_SECONDS) * BUCKET_SECONDS, e // BUCKET_SECONDS * BUCKET_SECONDS
    raw_ranges = [(start, end)] if inner_s >= inner_e else [(start, _instant(inner_s)), (_instant(inner_e), end)]
    cents = gifts = 0
    closed = _closed(session)
    if inner_s < inner_e:
        gb = _buckets(session, closed)
        row = session.execute(
            select(func.coalesce(func.sum(_bucket_raised(basis, gb)), 0), func.coalesce(func.sum(gb.gifts), 0))
            .where(gb.currency == currency, gb.bucket >= inner_s, gb.bucket < inner_e)
        ).one()
        cents, gifts = int(row[0]), int(row[1])
    for a, b in raw_ranges:
        if a >= b:
            continue
        more, n = _raw_raised(session, closed, currency, a, b, basis)
        cents, gifts = cents + more, gifts + n
    return cents, gifts


def window_raised(session: Session, campaign: Campaign, as_of: datetime) -> tuple[int, int]:
    """(cents raised by the campaign's basis, gifts with a positive net) in the window up to `as_of`."""
    w = campaign.window_at(as_of)
    if not w.opened:
        return 0, 0
    return raised_between(session, campaign.currency, w.starts_at, w.end, campaign.raised_basis)


def bucket_series(session: Session, campaign: Campaign, as_of: datetime, *, gifts: bool = False) -> list[tuple]:
    """(quarter-hour start as epoch seconds, cents raised[, gifts with a positive net]) over the window up to
    `as_of`, exact to the gift; quarter hours with nothing raised (and no gift) are left out.

    The last, unfinished quarter hour comes from the gifts themselves.
    """
    w = campaign.window_at(as_of)
    if not w.opened:
        return []
    end = w.end
    s, e = _epoch(w.starts_at), _epoch(end)
    whole_end = e // BUCKET_SECONDS * BUCKET_SECONDS
    gb = _buckets(session)
    columns = [gb.bucket, _bucket_raised(campaign.raised_basis, gb)] + ([gb.gifts] if gifts else [])
    found = session.execute(
        select(*columns)
        .where(gb.currency == campaign.currency, gb.bucket >= s, gb.bucket < whole_end)
        .order_by(gb.bucket)
    )
    rows = ([(int(b), int(c), int(n)) for b, c, n in found] if gifts else [(int(b), int(c)) for b, c in found])
    if whole_end < e:
        tail, count = raised_between(session, campaign.currency, _instant(whole_end), end, campaign.raised_basis)
        rows.append((whole_end, tail, count) if gifts else (whole_end, tail))
    return [r for r in rows if any(r[1:])]


def daily_totals(session: Session, campaign: Campaign, as_of: datetime) -> dict[date, int]:
    """Raised per local day of the window (campaign time zone), in cents, up to `as_of`. Days without gifts are absent.

    Built from the quarter-hour rollup: every zone's offset is a whole number of quarter hours, so
    each bucket lies in exactly one local day (DST changes included).
    """
    tz = campaign.tz
    out: dict[date, int] = {}
    for epoch, cents in bucket_series(session, campaign, as_of):
        day = _instant(epoch).astimezone(tz).date()
        out[day] = out.get(day, 0) + cents
    return {d: c for d, c in out.items() if c}


def earlier_campaigns(session: Session, campaign: Campaign, as_of: datetime) -> list[Campaign]:
    """Campaigns in the same currency that ended before this one began and by `as_of`, oldest first."""
    found = session.scalars(
        select(Campaign).where(Campaign.currency == campaign.currency, Campaign.id != campaign.id,
                               Campaign.end_date < campaign.start_date)
        .order_by(Campaign.start_date)
    )
    return [c for c in found if c.ends_at <= campaign.starts_at and c.ends_at <= ensure_utc(as_of)]


def _window_donors(campaign: Campaign, end: datetime, d=Donation, closed: list | None = None):
    """The window's donors up to `end` (a subquery of donor_id and cents by the raised basis) and the SQL
    for each one's segment (new / retained / reactivated); join Donor to use it. See `segments`. `d` and
    `closed`: the gifts as booked and the closed periods (ids first) whose copy of first gifts counts."""
    in_window = _counted_between(campaign.currency, campaign.starts_at, end, d)
    net = NET if d is Donation else d.amount_cents - d.refunded_cents
    per_donor = (
        select(d.donor_id.label("donor_id"), func.sum(_raised(campaign.raised_basis, d)).label("cents"),
               func.count(case((net > 0, d.id))).label("gifts"))
        .where(in_window).group_by(d.donor_id).having(func.sum(net) > 0).subquery()
    )
    return per_donor, _segment_case(campaign, per_donor.c.donor_id, closed)


def _segment_case(campaign: Campaign, donor_id, closed: list | None = None):
    """SQL for the segment (new / retained / reactivated) of the donor `donor_id` (a column), Donor joined."""
    year_before = local_midnight(campaign.start_date - relativedelta(years=1), campaign.tz)
    prior = aliased(Donation)
    # one index probe per donor on (donor_id, donated_at); LIMIT 1 keeps PostgreSQL from hashing a whole year instead
    gave_in_year_before = (
        select(prior.id).where(
            prior.donor_id == donor_id, prior.status.in_(COUNTED_STATUSES),
            prior.amount_cents > prior.refunded_cents,
            prior.donated_at >= year_before, prior.donated_at < campaign.starts_at,
        ).limit(1).scalar_subquery().is_not(None)
    )
    # a donor whose first gift ever falls in the 12 months before is retained without looking further
    first = Donor.first_gift_at
    if closed:  # a first gift in a closed period is the one its close saw
        first = func.coalesce(select(func.min(closed_donors.c.first_gift_at)).where(
            closed_donors.c.donor_id == Donor.id, closed_donors.c.period_id.in_([i for i, _, _ in closed]))
            .scalar_subquery(), Donor.first_gift_at)
    return case((first >= campaign.starts_at, "new"), (first >= year_before, "retained"),
                (gave_in_year_before, "retained"), else_="reactivated")


def segments(session: Session, campaign: Campaign, as_of: datetime, previous: Campaign | None) -> Segments:
    """The window's donors up to `as_of` by history, and last year's donors not back yet.

    - new: their first counted gift ever is in the window;
    - retained: not new, and gave in the 12 months before the window opened;
    - reactivated: not new, and gave before that but not in those 12 months;
    - lybunt: donors of `previous` (last year's campaign) with no counted gift in this window yet,
      with what they gave in that campaign;
    - recurring / one_time: gifts and amounts, each recurring installment counted when it is received.
    Amounts follow the campaign's raised basis; a donor counts when they have a gift with a positive net.
    """
    end = campaign.window_at(as_of).end
    if end <= campaign.starts_at:
        return Segments(lybunt_campaign=previous.slug if previous else None,
                        lybunt=_lybunt(session, campaign, previous, as_of))
    d, _ = _gifts_as_booked(session, campaign.starts_at, end)  # a closed period's gifts as its close saw them
    closed = [c for c in _closed(session) if c[1] < end and campaign.starts_at < c[2]] if d is not Donation else []
    raised = _raised(campaign.raised_basis, d)
    in_window = _counted_between(campaign.currency, campaign.starts_at, end, d)
    per_donor, kind = _window_donors(campaign, end, d, closed)
    found = {
        k: Segment(int(n), int(c)) for k, n, c in session.execute(
            select(kind, func.count(), func.sum(per_donor.c.cents))
            .select_from(per_donor).join(Donor, Donor.id == per_donor.c.donor_id).group_by(kind)
        )
    }
    # a separate pass over the window's gifts: cheaper on PostgreSQL than four more sums in the grouping above
    by_kind = {
        bool(r): Segment(int(n), int(c)) for r, n, c in session.execute(
            select(d.recurring, func.count(), func.sum(raised))
            .where(in_window, (NET if d is Donation else d.amount_cents - d.refunded_cents) > 0)
            .group_by(d.recurring)
        )
    }
    return Segments(
        new=found.get("new", Segment()), retained=found.get("retained", Segment()),
        reactivated=found.get("reactivated", Segment()),
        lybunt=_lybunt(session, campaign, previous, as_of),
        lybunt_campaign=previous.slug if previous else None,
        recurring=by_kind.get(True, Segment()), one_time=by_kind.get(False, Segment()),
    )


def _lybunt_donors(campaign: Campaign, previous: Campaign, as_of: datetime):
    """A subquery of the donors of `previous` with no counted gift in this window up to `as_of`, with what
    they gave in `previous` (cents by this campaign's raised basis)."""
    last_end = previous.window_at(as_of).end
    last = (
        select(Donation.donor_id.label("donor_id"), func.sum(_raised(campaign.raised_basis)).label("cents"))
        .where(_counted_between(previous.currency, previous.starts_at, last_end))
        .group_by(Donation.donor_id).having(func.sum(NET) > 0).subquery()
    )
    query = select(last.c.donor_id, last.c.cents)
    end = campaign.window_at(as_of).end
    if end > campaign.starts_at:
        back = aliased(Donation)
        query = query.where(~select(back.id).where(  # one index probe per donor: (donor_id, donated_at)
            back.donor_id == last.c.donor_id, back.donated_at >= campaign.starts_at, back.donated_at < end,
            back.status.in_(COUNTED_STATUSES), back.currency == campaign.currency,
            back.amount_cents > back.refunded_cents,
        ).exists())
    return query.subquery()


def _lybunt(session: Session, campaign: Campaign, previous: Campaign | None, as_of: datetime) -> Segment:
    """Donors of `previous` with no counted gift in this window up to `as_of`, and what they gave in `previous`."""
    if previous is None:
        return Segment()
    lapsed = _lybunt_donors(campaign, previous, as_of)
    n, cents = session.execute(select(func.count(), func.coalesce(func.sum(lapsed.c.cents), 0))).one()
    return Segment(int(n), int(cents))


def export_donors(session: Session, campaign: Campaign, as_of: datetime, *, personal: bool = False) -> list[tuple]:
    """Per donor of the window up to `as_of`: (donor_id, segment, gifts, cents, first gift ever[, name, email])."""
    end = campaign.window_at(as_of).end
    if end <= campaign.starts_at:
        return []
    per_donor, kind = _window_donors(campaign, end)
    cols = [per_donor.c.donor_id, kind, per_donor.c.gifts, per_donor.c.cents, Donor.first_gift_at]
    return [tuple(r) for r in session.execute(
        select(*cols, *([Donor.name, Donor.email] if personal else []))
        .select_from(per_donor).join(Donor, Donor.id == per_donor.c.donor_id).order_by(per_donor.c.donor_id)
    )]


def export_lybunt(session: Session, campaign: Campaign, previous: Campaign, as_of: datetime, *,
                  personal: bool = False) -> list[tuple]:
    """Last campaign's donors not back yet: (donor_id, cents given in `previous`[, name, email]), largest first."""
    lapsed = _lybunt_donors(campaign, previous, as_of)
    stmt = select(lapsed.c.donor_id, lapsed.c.cents, *([Donor.name, Donor.email] if personal else []))
    if personal:
        stmt = stmt.join(Donor, Donor.id == lapsed.c.donor_id)
    return [tuple(r) for r in session.execute(stmt.order_by(lapsed.c.cents.desc(), lapsed.c.donor_id))]


def channel_breakdown(session: Session, campaign: Campaign, start: datetime, end: datetime) -> list[tuple]:
    """(channel or '', gifts, donors, gross, refunds, fees, raised) of counted gifts donated in [start, end)."""
    g, _ = _gifts_as_booked(session, start, end)
    net, fee_taken = _parts(g)
    return [
        (ch or "", int(n), int(d), int(gross), int(ref), int(fee), int(raised))
        for ch, n, d, gross, ref, fee, raised in session.execute(
            select(g.channel, func.count(case((net > 0, g.id))),
                   func.count(func.distinct(case((net > 0, g.donor_id)))), func.sum(g.amount_cents),
                   func.sum(g.refunded_cents), func.sum(fee_taken),
                   func.sum(_raised(campaign.raised_basis, g)))
            .where(_counted_between(campaign.currency, start, end, g)).group_by(g.channel)
            .order_by(func.sum(_raised(campaign.raised_basis, g)).desc())
        )
    ]


def fiscal_year(campaign: Campaign) -> tuple[date, date]:
    """The fiscal year (first and last day) that holds the campaign's last day."""
    month = campaign.fiscal_year_start_month or 1
    end = campaign.end_date
    first = date(end.year if end.month >= month else end.year - 1, month, 1)
    return first, first + relativedelta(years=1) - timedelta(days=1)


def fiscal_share(session: Session, campaign: Campaign, raised_cents: int, as_of: datetime,
                 earlier: list[Campaign], kept=None) -> FiscalShare:
    """The campaign's raised as a share of its fiscal year's (both up to `as_of`), and earlier campaigns' shares.

    `kept(key, compute)`, when given, keeps what only gifts dated before the campaign began make up (tracker.live):
    the earlier years' figures, and this fiscal year's part before the campaign."""
    start = campaign.starts_at

    def between(c: Campaign, a: datetime, b: datetime) -> int:
        if b <= a:
            return 0
        if kept is None or a >= start:
            return raised_between(session, c.currency, a, b, c.raised_basis)[0]
        before = min(b, start)  # sums over time: the part before the campaign kept, the rest read
        part = kept(("raised", c.currency, c.raised_basis, a, before),
                    lambda: raised_between(session, c.currency, a, before, c.raised_basis)[0])
        return part + (raised_between(session, c.currency, before, b, c.raised_basis)[0] if before < b else 0)

    def year_cents(c: Campaign) -> int:
        first, last = fiscal_year(c)
        year = Window(first, last, c.tz, as_of)
        return between(c, year.starts_at, year.end) if year.opened else 0

    shares = []
    for c in earlier:
        total = year_cents(c)
        mine = between(c, c.starts_at, c.ends_at)
        shares.append((c.slug, mine / total if total > 0 else None))
    first, last = fiscal_year(campaign)
    return FiscalShare(first, last, year_cents(campaign), raised_cents, tuple(shares))


def late_totals(session: Session, campaign: Campaign, as_of: datetime) -> tuple[int, int]:
    """(gifts, cents) donated inside the window but first imported at or after its deadline (and by `as_of`)."""
    row = session.execute(
        select(func.count(case((NET > 0, Donation.id))), func.coalesce(func.sum(_raised(campaign.raised_basis)), 0))
        .where(
            Donation.recorded_at >= campaign.ends_at, Donation.recorded_at <= ensure_utc(as_of),
            _counted_between(campaign.currency, campaign.starts_at, campaign.ends_at),
        )
    ).one()
    return int(row[0]), int(row[1])


def list_variants(session: Session, campaign: Campaign) -> list[AppealVariant]:
    """The campaign's popup variants, control first, then by key."""
    return list(session.scalars(
        select(AppealVariant).where(AppealVariant.campaign_id == campaign.id)
        .order_by(AppealVariant.is_control.desc(), AppealVariant.key)
    ))


def popup_gifts(session: Session, campaign: Campaign, as_of: datetime) -> list[tuple]:
    """Counted gifts of the window up to `as_of` that carry an appeal variant:
    (variant, donor_id, donated_at, cents by the campaign's raised basis, recurring, donor_is_new)."""
    end = campaign.window_at(as_of).end
    if end <= campaign.starts_at:
        return []
    return [tuple(r) for r in session.execute(
        select(Donation.appeal_variant, Donation.donor_id, Donation.donated_at, _raised(campaign.raised_basis),
               Donation.recurring, Donor.first_gift_at >= campaign.starts_at)
        .join(Donor, Donor.id == Donation.donor_id)
        .where(_counted_between(campaign.currency, campaign.starts_at, end), NET > 0,
               Donation.appeal_variant.is_not(None))
        .order_by(Donation.donated_at, Donation.id)
    )]


def no_popup_totals(session: Session, campaign: Campaign, as_of: datetime) -> tuple[int, int, int]:
    """(gifts, donors, cents) of the window's counted gifts without an appeal variant."""
    end = campaign.window_at(as_of).end
    if end <= campaign.starts_at:
        return 0, 0, 0
    row = session.execute(
        select(func.count(), func.count(func.distinct(Donation.donor_id)),
               func.coalesce(func.sum(_raised(campaign.raised_basis)), 0))
        .where(_counted_between(campaign.currency, campaign.starts_at, end), NET > 0,
               Donation.appeal_variant.is_(None))
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


def exposure_days(session: Session, variants: list[str], first: date, last: date) -> list[AppealDaily]:
    """Daily exposure counts of these variants for local days first..last (inclusive)."""
    if not variants or last < first:
        return []
    return list(session.scalars(
        select(AppealDaily).where(AppealDaily.variant.in_(variants), AppealDaily.day >= first, AppealDaily.day <= last)
        .order_by(AppealDaily.day, AppealDaily.variant)
    ))


def exposure_events(session: Session, variants: list[str], start: datetime, end: datetime) -> dict[tuple[str, str], tuple[int, int]]:
    """{(variant, event): (events, distinct readers)} for popup events in [start, end)."""
    if not variants or end <= start:
        return {}
    return {
        (v, e): (int(n), int(r)) for v, e, n, r in session.execute(
            select(AppealEvent.variant, AppealEvent.event, func.count(), func.count(func.distinct(AppealEvent.reader)))
            .where(AppealEvent.variant.in_(variants), AppealEvent.at >= start, AppealEvent.at < end)
            .group_by(AppealEvent.variant, AppealEvent.event)
        )
    }


def _day_index(campaign: Campaign, first: date, last: date, d=Donation):
    """SQL for the local day (0 = `first`) of a gift, by comparing with each local midnight (exact in every zone)."""
    tz = campaign.tz
    days = (last - first).days + 1
    bounds = [local_midnight(first + timedelta(days=i + 1), tz) for i in range(days)]
    return case(*[(d.donated_at < b, i) for i, b in enumerate(bounds)], else_=days)


def _export_donations_filter(campaign: Campaign, start: datetime, end: datetime, d=Donation):
    return and_(d.currency == campaign.currency, d.donated_at >= start, d.donated_at < end)


def _gifts_as_booked(session: Session, start: datetime, end: datetime):
    """(the gifts as finance reads them for [start, end), their period's close time or None): Donation itself, or,
    where closed periods (tracker.closing) overlap, an alias over the live gifts outside them and the copy of the
    gifts inside them taken at each close."""
    from tracker.models import UTCDateTime

    closed = [(i, s, e) for i, s, e in _closed(session) if s < end and start < e]
    if not closed:
        return Donation, None
    dt = Donation.__table__
    names = [c.name for c in dt.columns]
    view = union_all(
        select(*[dt.c[n] for n in names], null().cast(UTCDateTime).label("closed_at"))
        .where(and_(*[or_(dt.c.donated_at < s, dt.c.donated_at >= e) for _, s, e in closed])),
        select(*[closed_gifts.c[n] for n in names], ClosedPeriod.closed_at.label("closed_at"))
        .join(ClosedPeriod, ClosedPeriod.id == closed_gifts.c.period_id)
        .where(closed_gifts.c.period_id.in_([i for i, _, _ in closed])),
    ).subquery("gifts")
    return aliased(Donation, view, adapt_on_names=True), view.c.closed_at


def count_donations(session: Session, campaign: Campaign, start: datetime, end: datetime) -> int:
    """How many rows export_donations gives for the same arguments."""
    d, _ = _gifts_as_booked(session, start, end)
    gifts = int(session.scalar(select(func.count()).select_from(d).where(_export_donations_filter(campaign, start, end, d))))
    return gifts + len(_adjustments_booked(session, campaign, start, end))


def _adjustments_booked(session: Session, campaign: Campaign, start: datetime, end: datetime) -> list:
    from tracker import closing

    return [a for a in closing.adjustments(session, currency=campaign.currency)
            if start <= a.booking < end]


def export_donations(session: Session, campaign: Campaign, start: datetime, end: datetime, *, personal: bool = False):
    """Every gift in the campaign's currency donated in [start, end), any status (voided and duplicate ones too),
    oldest first (streamed), with its details (gift_details) and its donor's CRM id: the donor key's id when it
    came from a donor id column (id:...), not a processor's customer (id:stripe:...). The refund's time is the
    details' when they say, else the last refund row's (PayPal)."""
    from tracker.export import DonationRow
    from tracker.models import GiftDetail, Refund

    cols = [Donation.external_id, Donation.source, Donation.donated_at, Donation.donor_id, Donation.amount_cents,
            Donation.fee_cents, Donation.refunded_cents, Donation.currency, Donation.status, Donation.channel,
            Donation.appeal_variant, Donation.recurring, Donation.import_id]
    d, closed_at = _gifts_as_booked(session, start, end)
    if d is not Donation:
        cols = [getattr(d, c.key) for c in cols]
    last_refund = (select(func.max(Refund.refunded_at)).where(Refund.donation_id == d.id)
                   .correlate(d).scalar_subquery())
    crm = case((and_(Donor.key.like("id:%"), Donor.key.not_like("id:stripe:%")), func.substr(Donor.key, 4)))
    more = [func.coalesce(GiftDetail.refunded_at, last_refund), d.dispute_status, d.dispute_cents,
            GiftDetail.payout_id, GiftDetail.fund, GiftDetail.gl_code, crm, GiftDetail.method, GiftDetail.entered_by,
            d.voided_at, d.processor, GiftDetail.original_cents, GiftDetail.original_currency, GiftDetail.rate,
            GiftDetail.rate_date, GiftDetail.rate_source]
    stmt = (select(*cols, *([Donor.name, Donor.email] if personal else []), *more,
                   *([closed_at] if closed_at is not None else []))
            .join(Donor, Donor.id == d.donor_id).outerjoin(GiftDetail, GiftDetail.donation_id == d.id)
            .where(_export_donations_filter(campaign, start, end, d)))
    for row in session.execute(stmt.order_by(d.donated_at, d.id).execution_options(yield_per=5000)):
        row = list(row)
        shut = row.pop() if closed_at is not None else None
        row = row if personal else [*row[:13], None, None, *row[13:]]
        if row[15] is not None:
            row[15] = ensure_utc(row[15])
            if shut is not None and row[15] > ensure_utc(shut):  # refunded after its month closed: an adjustment
                row[15] = None
        yield DonationRow(*row)
    for a in _adjustments_booked(session, campaign, start, end):
        yield DonationRow(a.external_id, a.source, a.donated_at, a.donor_id, 0, None, 0, a.currency, "adjustment",
                          None, None, False, None, adjusts_period=a.period, adjusted_at=a.booked_at,
                          adjustment_cents=a.net_cents)


def day_breakdown(session: Session, campaign: Campaign, first: date, last: date, end: datetime) -> list:
    """Per local day first..last (gifts before `end` only): counted gifts with a positive net, their donors,
    gross, refunds, fees (of gifts with a positive net) and raised by the campaign's basis. Days without gifts are left out."""
    from tracker.export import DayRow

    start = local_midnight(first, campaign.tz)
    g, _ = _gifts_as_booked(session, start, end)
    net, fee_taken = _parts(g)
    day = _day_index(campaign, first, last, g)
    rows = session.execute(
        select(day, func.count(case((net > 0, g.id))), func.count(func.distinct(case((net > 0, g.donor_id)))),
               func.sum(g.amount_cents), func.sum(g.refunded_cents),
               func.sum(fee_taken),
               func.sum(_raised(campaign.raised_basis, g)))
        .where(_counted_between(campaign.currency, start, end, g))
        .group_by(day).order_by(day)
    ).all()
    return [DayRow(first + timedelta(days=int(i)), int(g), int(d), int(gross), int(ref), int(fee), int(raised))
            for i, g, d, gross, ref, fee, raised in rows if int(i) <= (last - first).days]


def channel_days(session: Session, campaign: Campaign, window: Window):
    """Raised by local day and channel of the window's counted gifts (up to its as-of): a pandas DataFrame with
    columns day (date), channel (str, '' for none) and cents (int), one row per day and channel with gifts."""
    import pandas as pd

    columns = ["day", "channel", "cents"]
    if not window.opened:
        return pd.DataFrame(columns=columns)
    first, last = window.first, window.last
    g, _ = _gifts_as_booked(session, window.starts_at, window.end)
    day = _day_index(campaign, first, last, g)
    rows = session.execute(
        select(day, g.channel, func.sum(_raised(campaign.raised_basis, g)))
        .where(_counted_between(campaign.currency, window.starts_at, window.end, g)).group_by(day, g.channel)
    ).all()
    return pd.DataFrame([(first + timedelta(days=int(i)), ch or "", int(raised)) for i, ch, raised in rows
                         if int(i) <= (last - first).days], columns=columns)


GIFT_SIZES = (0, 25_00, 50_00, 100_00, 250_00, 500_00, 1_000_00)  # lower bounds in cents of the size bands


def gift_sizes(session: Session, campaign: Campaign, start: datetime, end: datetime) -> list[tuple[int, int, int]]:
    """(band's lower bound in cents, gifts, raised) of counted gifts donated in [start, end), by the gift's
    amount after refunds; every band, empty ones too, smallest first. Fully refunded gifts are left out."""
    g, _ = _gifts_as_booked(session, start, end)
    net, _ = _parts(g)
    band = case(*((net >= low, low) for low in reversed(GIFT_SIZES[1:])), else_=0)
    found = {int(low): (int(n), int(raised)) for low, n, raised in session.execute(
        select(band, func.count(), func.sum(_raised(campaign.raised_basis, g)))
        .where(_counted_between(campaign.currency, start, end, g), net > 0).group_by(band))}
    return [(low, *found.get(low, (0, 0))) for low in GIFT_SIZES]


def source_breakdown(session: Session, campaign: Campaign, start: datetime, end: datetime) -> list[tuple]:
    """(source, gifts, gross, refunds, fees, raised) of counted gifts donated in [start, end), by source."""
    g, _ = _gifts_as_booked(session, start, end)
    net, fee_taken = _parts(g)
    return [
        (src, int(n), int(gross), int(ref), int(fee), int(raised)) for src, n, gross, ref, fee, raised in session.execute(
            select(g.source, func.count(case((net > 0, g.id))), func.sum(g.amount_cents),
                   func.sum(g.refunded_cents), func.sum(fee_taken),
                   func.sum(_raised(campaign.raised_basis, g)))
            .where(_counted_between(campaign.currency, start, end, g)).group_by(g.source).order_by(g.source)
        )
    ]


def currency_breakdown(session: Session, campaign: Campaign, start: datetime, end: datetime) -> list[tuple]:
    """(currency given, gifts, given, gross, raised) of the counted gifts donated in [start, end) that were given in
    another currency and converted (gift_details.original_currency), by that currency: `given` in cents of it,
    gross and raised in the campaign's."""
    from tracker.models import GiftDetail

    g, _ = _gifts_as_booked(session, start, end)
    net, _ = _parts(g)
    return [
        (cur, int(n), int(given), int(gross), int(raised)) for cur, n, given, gross, raised in session.execute(
            select(GiftDetail.original_currency, func.count(case((net > 0, g.id))), func.sum(GiftDetail.original_cents),
                   func.sum(g.amount_cents), func.sum(_raised(campaign.raised_basis, g)))
            .join(GiftDetail, GiftDetail.donation_id == g.id)
            .where(_counted_between(campaign.currency, start, end, g), GiftDetail.original_currency.is_not(None))
            .group_by(GiftDetail.original_currency).order_by(GiftDetail.original_currency)
        )
    ]


def list_audit(session: Session, limit: int = 50) -> list[AuditEntry]:
    """The most recent audit entries first."""
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)))


def list_runs(session: Session, limit: int = 50, campaign: Campaign | None = None,
              before: datetime | None = None) -> list[tuple[ReportRun, str]]:
    """Report and alert runs with their campaign's slug, the most recently started first (up to `before`)."""
    stmt = select(ReportRun, Campaign.slug).join(Campaign, Campaign.id == ReportRun.campaign_id)
    if campaign is not None:
        stmt = stmt.where(ReportRun.campaign_id == campaign.id)
    if before is not None:
        stmt = stmt.where(ReportRun.started_at <= before)
    return [(run, slug) for run, slug in session.execute(stmt.order_by(ReportRun.started_at.desc(), ReportRun.id.desc())
                                                         .limit(limit))]


def last_delivered(session: Session, campaign: Campaign, job: str, before: datetime) -> ReportRun | None:
    """The job's last report sent or written before a moment (what "since the last report" means)."""
    return session.scalar(select(ReportRun).where(
        ReportRun.campaign_id == campaign.id, ReportRun.job == job, ReportRun.kind == "report",
        ReportRun.status.in_(("sent", "written")), ReportRun.finished_at <= before).order_by(ReportRun.finished_at.desc(), ReportRun.id.desc()).limit(1))


def due_retries(session: Session, now: datetime) -> list[ReportRun]:
    """Failed runs whose next attempt is due, and running ones whose lease ran out (their scheduler died)."""
    return list(session.scalars(select(ReportRun).where(
        ((ReportRun.status == "failed") & (ReportRun.next_attempt_at <= now))
        | ((ReportRun.status == "running") & (ReportRun.lease_until < now))).order_by(ReportRun.id)))


def alert_keys(session: Session, campaign: Campaign) -> set[str]:
    """The alerts already recorded for a campaign (sent, skipped, failing or given up): each is sent once."""
    return set(session.scalars(select(ReportRun.slot).where(ReportRun.campaign_id == campaign.id,
                                                            ReportRun.job == "alert")))


def data_revision(session: Session) -> int:
    """The count of changes to gifts, exposures, campaigns and variants (a cache key: see DataRevision)."""
    return session.scalar(select(DataRevision.n).where(DataRevision.id == 1)) or 0


def get_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def user_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User))


def session_login(session: Session, token_hash: str) -> tuple[WebSession, User] | None:
    """The dashboard session with this token hash and its user, ended or not (None: no such session)."""
    row = session.execute(select(WebSession, User).join(User, User.id == WebSession.user_id)
                          .where(WebSession.token_hash == token_hash)).first()
    return (row[0], row[1]) if row else None


def login_failures(session: Session, username: str, remote: str) -> tuple[int, datetime | None, datetime | None] | None:
    """(failures in a row, the last one's time, when the next attempt may be checked) for a user name
    as typed and a client address; None when there is no record. Read fresh, never from the session's cache."""
    row = session.execute(select(LoginThrottle.failures, LoginThrottle.last_failure_at, LoginThrottle.next_allowed_at)
                          .where(LoginThrottle.username == username, LoginThrottle.remote == remote)).first()
    return (int(row[0]), row[1], row[2]) if row else None


def server_secret(session: Session, name: str) -> str | None:
    """A secret the server generated and kept (see models.ServerSecret), or None."""
    return session.scalar(select(ServerSecret.value).where(ServerSecret.name == name))


def list_imports(session: Session, limit: int = 50) -> list[ImportBatch]:
    """The most recent imports first."""
    return list(session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc()).limit(limit)))


def file_totals(session: Session, since: datetime, until: datetime) -> list[tuple]:
    """Completed imports started from `since` up to `until`, oldest first: (id, source, filename, started_at, gift
    rows, of them recognized, file cents, stored cents)."""
    gifts = ImportBatch.inserted + ImportBatch.updated + ImportBatch.unchanged  # recognized rows are among these
    return [(i, src, name, ensure_utc(at), int(n or 0), int(rec or 0), int(fc or 0), int(sc or 0))
            for i, src, name, at, n, rec, fc, sc in session.execute(
                select(ImportBatch.id, ImportBatch.source, ImportBatch.filename, ImportBatch.started_at, gifts,
                       ImportBatch.recognized, ImportBatch.file_cents, ImportBatch.stored_cents)
                .where(ImportBatch.status == "completed", ImportBatch.started_at >= since,
                       ImportBatch.started_at <= until, ImportBatch.file_cents.is_not(None))
                .order_by(ImportBatch.id))]


def list_webhook_events(session: Session, limit: int = 50, status: str | None = None):
    """The latest webhook events first (WebhookEvent rows), of one status if given."""
    from tracker.models import WebhookEvent

    stmt = select(WebhookEvent)
    if status:
        stmt = stmt.where(WebhookEvent.status == status)
    return list(session.scalars(stmt.order_by(WebhookEvent.received_at.desc(), WebhookEvent.id.desc()).limit(limit)))


def webhook_counts(session: Session) -> dict[tuple[str, str], int]:
    """{(provider, status): events} of the inbox."""
    from tracker.models import WebhookEvent

    return {(p, s): int(n) for p, s, n in session.execute(
        select(WebhookEvent.provider, WebhookEvent.status, func.count()).group_by(WebhookEvent.provider,
                                                                                 WebhookEvent.status))}


def webhook_refusals(session: Session) -> list[tuple[str, str, int, datetime]]:
    """(provider, reason, deliveries refused, the last time) of refused deliveries."""
    from tracker.models import WebhookRefusal

    return [tuple(r) for r in session.execute(select(WebhookRefusal.provider, WebhookRefusal.reason, WebhookRefusal.n,
                                                     WebhookRefusal.last_at).order_by(WebhookRefusal.provider,
                                                                                      WebhookRefusal.reason))]


def last_received(session: Session, before: datetime | None = None) -> dict[str, datetime]:
    """{provider: when its latest event was received} (up to `before`)."""
    from tracker.models import WebhookEvent

    stmt = select(WebhookEvent.provider, func.max(WebhookEvent.received_at)).group_by(WebhookEvent.provider)
    if before is not None:
        stmt = stmt.where(WebhookEvent.received_at <= before)
    return {p: ensure_utc(t) for p, t in session.execute(stmt) if t is not None}


def last_file_import(session: Session, before: datetime | None = None) -> datetime | None:
    """When the latest import of a donations file finished (up to `before`)."""
    stmt = select(func.max(ImportBatch.finished_at)).where(~ImportBatch.format.like("appeals-%"),
                                                           ImportBatch.format != "demo")
    if before is not None:
        stmt = stmt.where(ImportBatch.finished_at <= before)
    found = session.scalar(stmt)
    return ensure_utc(found) if found is not None else None


def failing_webhooks(session: Session) -> int:
    """Webhook events that failed to apply (retrying, or given up)."""
    from tracker.models import WebhookEvent

    return session.scalar(select(func.count()).select_from(WebhookEvent).where(
        WebhookEvent.status.in_(("failed", "gave_up")))) or 0


def webhook_gifts(session: Session, provider: str, source: str) -> dict[str, tuple[int, int, datetime]]:
    """{gift id: (amount, counted cents, donated_at)} of the gifts webhooks of `provider` delivered (source `source`)."""
    from tracker.models import WebhookEvent

    delivered = select(WebhookEvent.object_id).where(WebhookEvent.provider == provider,
                                                     WebhookEvent.status == "applied",
                                                     WebhookEvent.object_id.is_not(None)).distinct().subquery()
    counted = case((Donation.status.in_(COUNTED_STATUSES), NET), else_=0)
    return {ext: (int(a), int(c), ensure_utc(at)) for ext, a, c, at in session.execute(
        select(Donation.external_id, Donation.amount_cents, counted, Donation.donated_at)
        .where(Donation.source == source, Donation.external_id.in_(select(delivered.c.object_id))))}


def duplicate_pairs(session: Session, status: str | None = "undecided", limit: int = 200) -> list[tuple]:
    """Likely duplicate pairs with both gifts: (pair, gift a, gift b), the latest found first."""
    from tracker.models import DuplicatePair

    a, b = aliased(Donation), aliased(Donation)
    stmt = select(DuplicatePair, a, b).join(a, a.id == DuplicatePair.a_id).join(b, b.id == DuplicatePair.b_id)
    if status:
        stmt = stmt.where(DuplicatePair.status == status)
    return [tuple(r) for r in session.execute(stmt.order_by(DuplicatePair.found_at.desc(), DuplicatePair.id.desc())
                                              .limit(limit))]


def undecided_duplicates(session: Session, campaign: Campaign | None = None, as_of: datetime | None = None) -> tuple[int, int]:
    """(pairs, cents) of likely duplicates awaiting a decision: the cents counted twice if they are one gift (the
    later gift's), within the campaign's window (and currency) up to as-of when a campaign is given; without one,
    (pairs, 0) when the pairs hold more than one currency (see undecided_by_currency)."""
    if campaign is None:
        by = undecided_by_currency(session)
        return sum(n for n, _ in by.values()), (next(iter(by.values()))[1] if len(by) == 1 else 0)
    from tracker.models import DuplicatePair

    b = aliased(Donation)
    stmt = (select(func.count(), func.coalesce(func.sum(case((b.status.in_(COUNTED_STATUSES), b.amount_cents
                                                               - b.refunded_cents), else_=0)), 0))
            .select_from(DuplicatePair).join(b, b.id == DuplicatePair.b_id).where(DuplicatePair.status == "undecided"))
    w = campaign.window_at(as_of) if as_of is not None else campaign.window
    stmt = stmt.where(b.donated_at >= w.starts_at, b.donated_at < w.end, b.currency == campaign.currency)
    n, cents = session.execute(stmt).one()
    return int(n), int(cents)


def undecided_by_currency(session: Session) -> dict[str, tuple[int, int]]:
    """Currency -> (pairs, cents counted twice) of all likely duplicates awaiting a decision."""
    from tracker.models import DuplicatePair

    b = aliased(Donation)
    counted = func.coalesce(func.sum(case((b.status.in_(COUNTED_STATUSES), b.amount_cents - b.refunded_cents),
                                          else_=0)), 0)
    return {cur: (int(n), int(cents)) for cur, n, cents in session.execute(
        select(b.currency, func.count(), counted).select_from(DuplicatePair).join(b, b.id == DuplicatePair.b_id)
        .where(DuplicatePair.status == "undecided").group_by(b.currency).order_by(b.currency))}


def gift_record(session: Session, gift_id: int):
    """A gift with what is known of it: (the gift, its details or None, its history oldest first, the import that
    created it or None, the webhook event that created it or None); None when there is no such gift."""
    from tracker.models import GiftDetail, GiftHistory, WebhookEvent

    gift = session.get(Donation, gift_id)
    if gift is None:
        return None
    detail = session.get(GiftDetail, gift_id)
    changes = session.scalars(select(GiftHistory).where(GiftHistory.donation_id == gift_id)
                              .order_by(GiftHistory.at, GiftHistory.id)).all()
    batch = session.scalar(select(ImportBatch).where(ImportBatch.started_at == gift.recorded_at)) \
        if gift.recorded_at is not None else None
    event = None
    if batch is None and gift.recorded_at is not None:
        event = session.scalar(select(WebhookEvent).where(WebhookEvent.received_at == gift.recorded_at).limit(1))
    return gift, detail, changes, batch, event


# -- the last 48 hours (the Overview's and the wall's recent figures) --------------------------

def quarter_hours(session: Session, currency: str, start: datetime, end: datetime,
                  basis: str = "gross") -> list[tuple[int, int, int]]:
    """(quarter-hour start as epoch seconds, cents raised, gifts with a positive net) of counted gifts donated in
    [start, end), exact to the gift, oldest first; quarter hours with nothing are left out. Whole quarter hours
    come from the rollups (closed periods as their close saw them), a part at either end from the gifts."""
    s, e = _epoch(start), _epoch(end)
    if ensure_utc(end) <= ensure_utc(start):
        return []
    inner_s, inner_e = -(-s // BUCKET_SECONDS) * BUCKET_SECONDS, e // BUCKET_SECONDS * BUCKET_SECONDS
    rows: list[tuple[int, int, int]] = []
    tail_start = max(inner_s, inner_e)
    if s < inner_s:  # a part of the first quarter hour
        rows.append((s // BUCKET_SECONDS * BUCKET_SECONDS,
                     *raised_between(session, currency, start, min(ensure_utc(end), _instant(inner_s)), basis)))
    if inner_s < inner_e:
        gb = _buckets(session)
        rows += [(int(b), int(c), int(n)) for b, c, n in session.execute(
            select(gb.bucket, _bucket_raised(basis, gb), gb.gifts)
            .where(gb.currency == currency, gb.bucket >= inner_s, gb.bucket < inner_e).order_by(gb.bucket))]
    if _instant(tail_start) < ensure_utc(end):  # a part of the last one (up to the microsecond)
        rows.append((tail_start, *raised_between(session, currency, _instant(tail_start), end, basis)))
    return [r for r in rows if any(r[1:])]


def gifts_and_donors(session: Session, campaign: Campaign, start: datetime, end: datetime) -> tuple[int, int]:
    """(gifts with a positive net, their donors) of the campaign's counted gifts donated in [start, end)."""
    if end <= start:
        return 0, 0
    g, _ = _gifts_as_booked(session, start, end)
    net, _ = _parts(g)
    n, donors = session.execute(select(func.count(), func.count(func.distinct(g.donor_id)))
                                .where(_counted_between(campaign.currency, start, end, g), net > 0)).one()
    return int(n), int(donors)


def latest_gifts(session: Session, campaign: Campaign, start: datetime, end: datetime, *, limit: int = 10,
                 largest: bool = False, personal: bool = False) -> list[tuple]:
    """Counted gifts with a positive net donated in [start, end): (donated_at UTC, cents by the campaign's raised
    basis, channel or ''[, donor name or '']), the latest first (with `largest`: the largest first, then the latest).
    Names only with `personal` (finance and admin)."""
    if end <= start:
        return []
    g, _ = _gifts_as_booked(session, start, end)
    net, _ = _parts(g)
    raised = _raised(campaign.raised_basis, g)
    order = [raised.desc(), g.donated_at.desc(), g.id.desc()] if largest else [g.donated_at.desc(), g.id.desc()]
    stmt = select(g.donated_at, raised, g.channel, *([Donor.name] if personal else [])) \
        .where(_counted_between(campaign.currency, start, end, g), net > 0)
    if personal:
        stmt = stmt.join(Donor, Donor.id == g.donor_id)
    return [(ensure_utc(r[0]), int(r[1]), r[2] or "", *((r[3] or "",) if personal else ()))
            for r in session.execute(stmt.order_by(*order).limit(limit))]


def first_time_donors(session: Session, campaign: Campaign, start: datetime, end: datetime) -> int:
    """Donors whose first counted gift ever was donated in [start, end), in the campaign's currency."""
    if end <= start:
        return 0
    return int(session.scalar(
        select(func.count(func.distinct(Donation.donor_id))).join(Donor, Donor.id == Donation.donor_id)
        .where(_counted_between(campaign.currency, start, end), NET > 0, Donor.first_gift_at >= start,
               Donor.first_gift_at < end)) or 0)


def new_recurring(session: Session, campaign: Campaign, as_of: datetime) -> tuple[int, int]:
    """(donors, cents a month) of the donors whose first recurring gift (counted, positive net) is in the window up
    to `as_of`: no recurring gift before the window. Cents a month: each one's latest installment, by the
    campaign's raised basis."""
    ranked = _new_recurring(campaign, as_of)
    if ranked is None:
        return 0, 0
    n, cents = session.execute(select(func.count(), func.coalesce(func.sum(ranked.c.cents), 0))
                               .where(ranked.c.k == 1)).one()
    return int(n), int(cents)


def new_recurring_donors(session: Session, campaign: Campaign, as_of: datetime,
                         donor_ids: list[int] | None = None) -> dict[int, int]:
    """`new_recurring` donor by donor (of `donor_ids` only, when given): donor id -> cents a month."""
    ranked = _new_recurring(campaign, as_of, donor_ids)
    if ranked is None:
        return {}
    return {int(d): int(c) for d, c in session.execute(select(ranked.c.donor_id, ranked.c.cents)
                                                       .where(ranked.c.k == 1))}


def _new_recurring(campaign: Campaign, as_of: datetime, donor_ids: list[int] | None = None):
    """The new recurring donors' installments in the window up to `as_of`, each donor's latest first (k = 1)."""
    w = campaign.window_at(as_of)
    if not w.opened:
        return None
    inside = and_(_counted_between(campaign.currency, w.starts_at, w.end), NET > 0, Donation.recurring.is_(True))
    if donor_ids is not None:
        inside = and_(inside, Donation.donor_id.in_(donor_ids))
    before = aliased(Donation)
    had_one = select(before.id).where(  # one index probe per gift: (donor_id, donated_at)
        before.donor_id == Donation.donor_id, before.donated_at < w.starts_at, before.recurring.is_(True),
        before.status.in_(COUNTED_STATUSES), before.amount_cents > before.refunded_cents).exists()
    return select(Donation.donor_id.label("donor_id"), _raised(campaign.raised_basis).label("cents"),
                  func.row_number().over(partition_by=Donation.donor_id,
                                         order_by=(Donation.donated_at.desc(), Donation.id.desc())).label("k")) \
        .where(inside, ~had_one).subquery()


def campaign_donors(session: Session, campaign: Campaign, as_of: datetime) -> int:
    """Donors with a counted gift (positive net in all) in the campaign's window up to `as_of`."""
    end = campaign.window_at(as_of).end
    if end <= campaign.starts_at:
        return 0
    per_donor = (select(Donation.donor_id).where(_counted_between(campaign.currency, campaign.starts_at, end))
                 .group_by(Donation.donor_id).having(func.sum(NET) > 0).subquery())
    return int(session.scalar(select(func.count()).select_from(per_donor)) or 0)


def exchange_rates(session: Session) -> dict[date, dict[str, str | None]]:
    """The reference rates imported with `tracker rates import`: day -> {currency: units per EUR as text, None for
    N/A} (tracker.currency.RateTable puts them on top of the bundled ECB table)."""
    from tracker.models import ExchangeRate

    found: dict[date, dict[str, str | None]] = {}
    for day, currency, rate in session.execute(select(ExchangeRate.day, ExchangeRate.currency, ExchangeRate.rate)):
        found.setdefault(day, {})[currency] = rate
    return found


def exchange_rate_span(session: Session) -> tuple[int, date | None, date | None]:
    """(imported rates, first day, last day) of the rates imported with `tracker rates import`."""
    from tracker.models import ExchangeRate

    count, first, last = session.execute(select(func.count(), func.min(ExchangeRate.day),
                                                func.max(ExchangeRate.day))).one()
    return count, first, last
# -- match pools (tracker.matching) -----------------------------------------------------------

def list_match_pools(session: Session, campaign: Campaign) -> list[MatchPool]:
    """The campaign's match pools, oldest first."""
    return list(session.scalars(select(MatchPool).where(MatchPool.campaign_id == campaign.id)
                                .order_by(MatchPool.created_at, MatchPool.id)))


def get_match_pool(session: Session, campaign: Campaign, name: str) -> MatchPool:
    """The campaign's match pool named `name` (case-insensitive); NotFound naming the pools there are."""
    pools = list_match_pools(session, campaign)
    found = next((p for p in pools if p.name.lower() == (name or "").strip().lower()), None)
    if found is None:
        known = ", ".join(p.name for p in pools) or "none yet"
        raise NotFound(f"no match pool {name!r} on {campaign.slug} (pools: {known}); see: tracker match list")
    return found


def match_changes(session: Session, pool_ids: list[int]) -> dict[int, list[tuple]]:
    """Each pool's edits (at, field, old, new, actor), oldest first."""
    out: dict[int, list[tuple]] = {i: [] for i in pool_ids}
    if not pool_ids:
        return out
    rows = session.execute(select(MatchChange.pool_id, MatchChange.at, MatchChange.field, MatchChange.old_value,
                                  MatchChange.new_value, MatchChange.actor)
                           .where(MatchChange.pool_id.in_(pool_ids)).order_by(MatchChange.at, MatchChange.id))
    for pool_id, at, fld, old, new, actor in rows:
        out[pool_id].append((ensure_utc(at), fld, old, new, actor))
    return out


def match_gifts(session: Session, campaign: Campaign, start: datetime, end: datetime, *,
                first_recurring: bool = True) -> list[MatchGift]:
    """The candidates for matching (tracker.matching.Gift): the counted gifts with a positive net in the campaign's
    currency donated in [start, end), as they are now (in a closed month too: a refund after the close still gives
    its match back, as the matcher pays on the gifts that stand), with their payment method (as recorded, else
    card or paypal by the processor), their donor's first gift and, with `first_recurring`, the donor's first
    counted recurring gift ever (when and which)."""
    if end <= start:
        return []
    g = Donation
    net, _ = _parts(g)
    method = func.coalesce(GiftDetail.method, case(
        (func.coalesce(g.processor, g.source) == "stripe", "card"),
        (func.coalesce(g.processor, g.source) == "paypal", "paypal"), else_=null()))
    columns = [g.id, g.donated_at, g.donor_id, net, g.recurring, method, Donor.first_gift_at]
    stmt = (select(*columns).join(Donor, Donor.id == g.donor_id)
            .outerjoin(GiftDetail, GiftDetail.donation_id == g.id)
            .where(_counted_between(campaign.currency, start, end, g), net > 0))
    if first_recurring:
        # for a recurring gift, its donor's first counted recurring gift ever: one index probe per gift on
        # (donor_id, donated_at), as new_recurring does (a window over every donor's gifts made PostgreSQL loop)
        first = aliased(Donation)

        def probe(column):
            return case((g.recurring.is_(True), select(column).where(
                first.donor_id == g.donor_id, first.recurring.is_(True), first.status.in_(COUNTED_STATUSES),
                first.currency == campaign.currency, first.amount_cents > first.refunded_cents)
                .order_by(first.donated_at, first.id).limit(1).scalar_subquery()), else_=null())

        stmt = stmt.add_columns(probe(first.donated_at), probe(first.id))
    out = []
    for row in session.execute(stmt):
        first_at = ensure_utc(row[7]) if first_recurring and row[7] is not None else None
        out.append(MatchGift(id=int(row[0]), donated_at=ensure_utc(row[1]), donor_id=int(row[2]), cents=int(row[3]),
                             recurring=bool(row[4]), method=row[5],
                             donor_first_gift_at=ensure_utc(row[6]) if row[6] is not None else None,
                             first_recurring_at=first_at,
                             first_recurring_id=int(row[8]) if first_recurring and row[8] is not None else None))
    return out


# -- what changed since figures were kept (tracker.live) --------------------------------------

def change_marks(session: Session) -> tuple:
    """Where the gifts' record stands: (newest gift id, newest history row id, imports undone, closed periods).
    Every writer takes the write lock until it commits, so ids grow in commit order; a gift created gets a new
    id and every later change of one gets a history row (tracker.ingest.history). Only an undo removes gifts,
    and a close or a reopening changes what the figures read: those two are counted as a whole."""
    from tracker.models import GiftHistory

    gift = select(func.max(Donation.id)).scalar_subquery()
    changed = select(func.max(GiftHistory.id)).scalar_subquery()
    undone = select(func.count(ImportBatch.id), func.max(ImportBatch.undone_at)).where(
        ImportBatch.undone_at.is_not(None))
    closed = select(func.count(ClosedPeriod.id), func.max(ClosedPeriod.id), func.count(ClosedPeriod.reopened_at))
    g, h = session.execute(select(gift, changed)).one()
    u = tuple(session.execute(undone).one())
    c = tuple(session.execute(closed).one())
    return (int(g or 0), int(h or 0), u, c)


def changed_gifts(session: Session, after_gift: int, after_history: int, limit: int) -> list[tuple] | None:
    """(donor id, donated_at UTC) of each gift created after gift id `after_gift` and of each gift changed
    after history row `after_history`, also as the change found it (its donor and date before); None when there
    are more than `limit` (then everything is worked out afresh)."""
    import json

    from tracker.ingest.history import moment
    from tracker.models import GiftHistory

    created = session.execute(select(Donation.donor_id, Donation.donated_at).where(Donation.id > after_gift)
                              .order_by(Donation.id).limit(limit + 1)).all()
    if len(created) > limit:
        return None
    changes = session.execute(
        select(Donation.donor_id, Donation.donated_at, GiftHistory.before)
        .join(Donation, Donation.id == GiftHistory.donation_id).where(GiftHistory.id > after_history)
        .order_by(GiftHistory.id).limit(limit + 1 - len(created))).all()
    if len(created) + len(changes) > limit:
        return None
    out = [(int(d), ensure_utc(at)) for d, at in created]
    for donor, at, before in changes:
        out.append((int(donor), ensure_utc(at)))
        old = json.loads(before or "{}")
        if "donor_id" in old or "donated_at" in old:
            out.append((int(old.get("donor_id") or donor),
                        moment(old["donated_at"]) if old.get("donated_at") else ensure_utc(at)))
    return out


def gifts_dated_between(session: Session, currency: str, start: datetime, end: datetime) -> list[tuple]:
    """(donor id, donated_at UTC) of the gifts in `currency` donated in [start, end), whatever their status."""
    if end <= start:
        return []
    return [(int(d), ensure_utc(at)) for d, at in session.execute(
        select(Donation.donor_id, Donation.donated_at)
        .where(Donation.currency == currency, Donation.donated_at >= start, Donation.donated_at < end))]


def donor_window_figures(session: Session, campaign: Campaign, end: datetime,
                         donor_ids: list[int] | None = None) -> list[tuple]:
    """Per donor with a counted gift in the campaign's window up to `end` (of `donor_ids` only, when given):
    (donor id, segment or None, cents, recurring gifts, recurring cents, one-time gifts, one-time cents).

    The same rules as `segments`, donor by donor: the segment (new, retained, reactivated) and cents of a donor
    whose gifts there net above zero (else None), and the gifts with a positive net by recurring or not; summed
    over every donor they are `segments`' figures (without closed periods: their copies are not read here)."""
    in_window = _counted_between(campaign.currency, campaign.starts_at, end)
    raised = _raised(campaign.raised_basis)
    positive = NET > 0
    stmt = select(
        Donation.donor_id.label("donor_id"), func.sum(NET).label("net"), func.sum(raised).label("cents"),
        func.count(case((and_(positive, Donation.recurring), Donation.id))).label("rec_n"),
        func.coalesce(func.sum(case((and_(positive, Donation.recurring), raised), else_=0)), 0).label("rec_c"),
        func.count(case((and_(positive, ~Donation.recurring), Donation.id))).label("one_n"),
        func.coalesce(func.sum(case((and_(positive, ~Donation.recurring), raised), else_=0)), 0).label("one_c"),
    ).where(in_window)
    if donor_ids is not None:
        stmt = stmt.where(Donation.donor_id.in_(donor_ids))
    per_donor = stmt.group_by(Donation.donor_id).subquery()
    kind = _segment_case(campaign, per_donor.c.donor_id)
    rows = session.execute(
        select(per_donor.c.donor_id, case((per_donor.c.net > 0, kind), else_=None), per_donor.c.cents,
               per_donor.c.rec_n, per_donor.c.rec_c, per_donor.c.one_n, per_donor.c.one_c)
        .select_from(per_donor).join(Donor, Donor.id == per_donor.c.donor_id))
    return [(int(d), k, int(c or 0), int(rn), int(rc), int(on), int(oc)) for d, k, c, rn, rc, on, oc in rows]


def campaign_donor_cents(session: Session, previous: Campaign, basis: str, as_of: datetime) -> dict[int, int]:
    """The donors of `previous` up to `as_of` (a positive net in all, as `campaign_donors` counts them) with the
    cents they gave there by `basis` (as LYBUNT counts them)."""
    end = previous.window_at(as_of).end
    return {int(d): int(c) for d, c in session.execute(
        select(Donation.donor_id, func.sum(_raised(basis)))
        .where(_counted_between(previous.currency, previous.starts_at, end))
        .group_by(Donation.donor_id).having(func.sum(NET) > 0))}


def closed_between(session: Session, start: datetime, end: datetime) -> bool:
    """Whether a closed period (tracker.closing) overlaps [start, end)."""
    return any(s < ensure_utc(end) and ensure_utc(start) < e for _, s, e in _closed(session))


def running_imports(session: Session) -> list[tuple[int, datetime, str | None]]:
    """(id, started_at, owner) of the imports marked running (some may have been killed: tracker.db.process_gone)."""
    return [(int(i), ensure_utc(s), o) for i, s, o in session.execute(
        select(ImportBatch.id, ImportBatch.started_at, ImportBatch.owner)
        .where(ImportBatch.status == "running", ImportBatch.finished_at.is_(None), ImportBatch.undone_at.is_(None)))]
