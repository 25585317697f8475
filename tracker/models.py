"""The database schema as SQLAlchemy 2.0 models.

Money columns hold integer cents; timestamps hold UTC (see UTCDateTime). The schema changes
only through Alembic migrations in migrations/.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import (
    text,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from tracker.dates import UTC, Window, ensure_utc, local_midnight

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# An autoincrementing 64-bit key on PostgreSQL; SQLite only autoincrements INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer, "sqlite")


class UTCDateTime(TypeDecorator):
    """A UTC instant stored as a naive timestamp (the same on SQLite and PostgreSQL).

    Aware datetimes are converted to UTC on the way in; naive ones are refused, so no code path
    can store a local time by accident. Values come back aware, in UTC.
    """

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return ensure_utc(value).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Campaign(Base):
    """A fundraising campaign: a money goal over a window of whole days in its own time zone."""

    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("goal_cents > 0", name="goal_positive"),
        CheckConstraint("end_date >= start_date", name="end_after_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    goal_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    timezone: Mapped[str] = mapped_column(String(64))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date, comment="last day of the campaign, inclusive")
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    goal_new_donors: Mapped[int | None] = mapped_column(Integer, comment="optional goal in donors who never gave before")
    goal_donors: Mapped[int | None] = mapped_column(Integer, comment="optional goal in donors, new or not")
    fiscal_year_start_month: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    raised_basis: Mapped[str] = mapped_column(
        String(16), default="gross", server_default="gross",
        comment="gross: amount minus refunds; net_of_fees: also minus processing fees",
    )
    goal_counts: Mapped[str] = mapped_column(
        String(24), default="raised", server_default="raised",
        comment="what the goal's progress counts: raised, with_match (raised + match earned) or "
                "with_received_match (raised + match received)",
    )

    variants: Mapped[list[AppealVariant]] = relationship(back_populates="campaign", cascade="all, delete-orphan")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def window(self) -> Window:
        """The campaign's window: its days in its zone, [start_date 00:00, the day after end_date 00:00)."""
        return Window(self.start_date, self.end_date, self.tz)

    def window_at(self, as_of: datetime) -> Window:
        """The window cut at `as_of`: what counts by then."""
        return Window(self.start_date, self.end_date, self.tz, as_of)

    @property
    def starts_at(self) -> datetime:
        """Start of the window (inclusive): 00:00 of start_date in the campaign's zone, in UTC."""
        return local_midnight(self.start_date, self.tz)

    @property
    def ends_at(self) -> datetime:
        """End of the window (exclusive): 00:00 of the day after end_date in the campaign's zone, in UTC."""
        return local_midnight(self.end_date + timedelta(days=1), self.tz)


class Donor(Base):
    """A person or organization that gives. `key` identifies them across imports."""

    __tablename__ = "donors"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(
        String(400), unique=True, comment="'id:<donor_id>', 'email:<lower-cased email>' or 'anon:<source>:<donation id>'"
    )
    email: Mapped[str | None] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(300))
    first_gift_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, index=True, comment="their first counted gift with a positive net, kept up to date at import"
    )


class ImportBatch(Base):
    """One run of an import: which file, when, and what happened to its rows."""

    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str] = mapped_column(String(1000))
    sha256: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(
        String(16), default="running", server_default="completed",
        comment="running (or killed while running), completed, failed, strict_rejected",
    )
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    superseded: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0", comment="rows replaced by a later row with the same id in the file"
    )
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    rejects_path: Mapped[str | None] = mapped_column(String(1000))
    message: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(200), comment="host:pid of the process running the import")
    recognized: Mapped[int] = mapped_column(Integer, default=0, server_default="0",
                                            comment="rows recognized as a gift stored from another source (processor id)")
    file_cents: Mapped[int | None] = mapped_column(BigInteger, comment="what the file's gifts count, as it says them")
    stored_cents: Mapped[int | None] = mapped_column(BigInteger, comment="what the same gifts count as stored after it")
    older: Mapped[int] = mapped_column(Integer, default=0, server_default="0",
                                       comment="rows older than the stored gift: their details were kept")
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="when `tracker imports undo` took it back")
    undone_by: Mapped[str | None] = mapped_column(String(200))


class Donation(Base):
    """One gift, identified by (source, external_id). Amounts are integer cents."""

    __tablename__ = "donations"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
        CheckConstraint("refunded_cents >= 0 AND refunded_cents <= amount_cents", name="refund_within_amount"),
        # covers every column the campaign numbers read from a window of gifts, so those scans never
        # visit the table itself (index-only); about a quarter faster on 1M gifts (bench/status.py)
        Index("ix_donations_window", "donated_at", "currency", "status", "donor_id", "amount_cents", "refunded_cents",
              "fee_cents", "recurring"),
        Index("ix_donations_donor_id_donated_at", "donor_id", "donated_at"),
        # one gift per payment, whatever file or webhook names it (a CRM row with the Stripe charge id)
        Index("uq_donations_payment", "processor", "processor_id", unique=True,
              sqlite_where=text("processor IS NOT NULL"), postgresql_where=text("processor IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(200))
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    refunded_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_cents: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    donated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(24), default="succeeded")  # what counts (tracker.ingest.states)
    channel: Mapped[str | None] = mapped_column(String(80))
    appeal_variant: Mapped[str | None] = mapped_column(String(80))
    recurring: Mapped[bool] = mapped_column(Boolean, default=False)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id"))
    recorded_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, index=True, comment="when the gift was first imported (start of its import); empty before 0003"
    )
    payment_status: Mapped[str] = mapped_column(
        String(24), default="succeeded", server_default="succeeded",
        comment="the payment as the source says: pending, succeeded, partially_refunded, refunded, failed")
    refund_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0",
                                              comment="refunds seen (refunded_cents also holds a lost dispute)")
    dispute_status: Mapped[str | None] = mapped_column(String(8), comment="open, won or lost; empty: none")
    dispute_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0",
                                               comment="the amount disputed (0: not said)")
    file_rank: Mapped[int | None] = mapped_column(
        BigInteger, comment="how new the details are: the first import of the file they came from (newer wins)")
    source_updated_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, comment="when the source last changed the gift, where it says; beats file_rank")
    processor: Mapped[str | None] = mapped_column(String(16), comment="the payment processor (stripe, paypal), if known")
    processor_id: Mapped[str | None] = mapped_column(String(200), comment="the processor's id of the payment (ch_...)")
    duplicate_of: Mapped[int | None] = mapped_column(
        BigId, comment="the id of the gift this one was merged into as a duplicate: it no longer counts")
    voided_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, comment="when the gift was voided (taken back by hand or by undoing its import): it no longer counts")


class GiftDetail(Base):
    """What finance needs of a gift beyond what counts: how it was paid and entered, where it went. Sparse: a row
    only for gifts that have any (a manual gift, a refund's date, a payout, a fund or GL code from a mapping)."""

    __tablename__ = "gift_details"

    donation_id: Mapped[int] = mapped_column(ForeignKey("donations.id"), primary_key=True)
    method: Mapped[str | None] = mapped_column(String(16), comment="check, cash, daf, stock, wire, card, paypal, other")
    reference: Mapped[str | None] = mapped_column(String(200), comment="a check number or a grant's reference")
    note: Mapped[str | None] = mapped_column(Text)
    entered_by: Mapped[str | None] = mapped_column(String(200), comment="who entered a gift by hand")
    entered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="when the (last) refund was made")
    payout_id: Mapped[str | None] = mapped_column(String(200), comment="the processor's payout or deposit id")
    fund: Mapped[str | None] = mapped_column(String(200), comment="the fund or designation")
    gl_code: Mapped[str | None] = mapped_column(String(80), comment="the general-ledger code")
    void_reason: Mapped[str | None] = mapped_column(Text)
    voided_by: Mapped[str | None] = mapped_column(String(200))
    # a gift given in another currency than the organization's (the gift's amounts are converted; tracker.currency)
    original_cents: Mapped[int | None] = mapped_column(BigInteger, comment="the amount in the currency given, cents")
    original_currency: Mapped[str | None] = mapped_column(String(3), comment="the currency the gift was given in")
    rate: Mapped[str | None] = mapped_column(String(40), comment="organization's currency per unit given (decimal text)")
    rate_date: Mapped[date | None] = mapped_column(Date, comment="the day of the rate's fixing")
    rate_source: Mapped[str | None] = mapped_column(String(16), comment="ecb, ecb-imported, or the processor's (stripe)")


class GiftHistory(Base):
    """One change a gift went through after it was created (refunded, disputed, voided, merged as a duplicate,
    its details changed, restored by an undo), with what caused it: an import, a webhook event or a person.
    `before` and `after` hold the gift's fields that changed (JSON). Its creation is on the gift itself."""

    __tablename__ = "gift_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    donation_id: Mapped[int] = mapped_column(ForeignKey("donations.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(24))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id"), index=True)
    webhook_event_id: Mapped[int | None] = mapped_column(BigId, comment="the webhook_events row that caused it")
    actor: Mapped[str | None] = mapped_column(String(200), comment="the person, for changes made by hand")
    before: Mapped[str] = mapped_column(Text)
    after: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)


PLEDGE_KINDS = ("paypal_giving_fund", "daf", "check", "match", "other")


class Pledge(Base):
    """Money promised and not received yet: a PayPal Giving Fund gift paid out weeks later, a donor-advised fund
    grant or a check announced, a matching sponsor's payment. Never a gift, so never in raised: it is shown beside
    raised as "committed, not yet received" until the money arrives as a gift (fulfilled_donation_id, set by the
    linking pass in tracker.ingest.pledges) or it is cancelled. (source, external_id) is unique: a file of pledges
    imported again is the same pledges."""

    __tablename__ = "pledges"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("kind IN ('paypal_giving_fund', 'daf', 'check', 'match', 'other')", name="kind"),
        Index("ix_pledges_open", "fulfilled_donation_id", "cancelled_at", "expected_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(40), comment="manual, or the source of the file it came from")
    external_id: Mapped[str] = mapped_column(String(200), comment="P-000001 by hand, or the file's id")
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), comment="empty: the campaign whose window holds pledged_at")
    donor_key: Mapped[str] = mapped_column(String(400), comment="as donors.key: 'email:<lower-cased email>', 'id:...'")
    email: Mapped[str | None] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(300))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    pledged_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="when it was promised (given, for PayPal Giving Fund)")
    expected_at: Mapped[date | None] = mapped_column(Date, comment="the day the money is expected (local), if known")
    kind: Mapped[str] = mapped_column(String(24), comment="paypal_giving_fund, daf, check, match or other")
    reference: Mapped[str | None] = mapped_column(String(200), comment="a grant's or check's reference, or the "
                                                                      "processor id the money will arrive with")
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200), comment="who entered it, or import N")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id"))
    fulfilled_donation_id: Mapped[int | None] = mapped_column(
        ForeignKey("donations.id"), unique=True, comment="the gift the money arrived as (each gift fulfils one pledge)")
    fulfilled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="when it was linked to that gift")
    fulfilled_by: Mapped[str | None] = mapped_column(String(40), comment="reference, donor (the rule) or hand")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)


class CampaignChange(Base):
    """An edit of a campaign (a stretch goal, a new end date), with when and who: the dashboard shows "goal raised
    to $450,000 on Dec 29"."""

    __tablename__ = "campaign_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)


class MatchPool(Base):
    """A matching offer on a campaign's gifts (NewsMatch, a board member's "every gift doubled until midnight"): a
    ratio, a cap for the pool and optionally per donor, over [starts_at, ends_at). Money in cents; the ratio as the
    decimal text given ("1", "0.5"). tracker.matching works out what each gift earns."""

    __tablename__ = "match_pools"
    __table_args__ = (
        UniqueConstraint("campaign_id", "name"),
        CheckConstraint("cap_cents > 0", name="cap_positive"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("recurring_multiplier >= 1", name="multiplier_at_least_one"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    ratio: Mapped[str] = mapped_column(String(24), comment="match per dollar given, decimal text: 1 = 1:1, 0.5")
    cap_cents: Mapped[int] = mapped_column(BigInteger, comment="the most the pool matches in all")
    per_donor_cap_cents: Mapped[int | None] = mapped_column(BigInteger, comment="the most one donor's gifts earn")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="exclusive")
    new_donors_only: Mapped[bool] = mapped_column(Boolean, default=False)
    recurring_multiplier: Mapped[int] = mapped_column(
        Integer, default=1, comment="a new monthly donor's first gift counts this many times")
    exclude_methods: Mapped[str | None] = mapped_column(String(200), comment="payment methods not matched, comma-separated")
    received_cents: Mapped[int] = mapped_column(BigInteger, default=0, comment="match money received (tracker match receive)")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))


class MatchChange(Base):
    """An edit of a match pool (the cap raised on December 1, match money received), with when and who. The money
    terms (ratio, caps, multiplier) and what was received take effect from `at`."""

    __tablename__ = "match_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("match_pools.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)


class ClosedPeriod(Base):
    """A month of the organization's calendar closed by finance: its figures are read from the snapshot taken at
    the close (closed_gifts, closed_buckets, closed_donors); later changes to its gifts are adjustments booked in
    the first open period. Reopened: the snapshot is dropped, the row kept for the audit."""

    __tablename__ = "closed_periods"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(7), comment="YYYY-MM, in the organization's zone")
    timezone: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="exclusive")
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="when the snapshot was taken")
    closed_by: Mapped[str] = mapped_column(String(200))
    figures: Mapped[str] = mapped_column(Text, comment="JSON: per currency, raised at the close")
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopened_by: Mapped[str | None] = mapped_column(String(200))


class GiftAlias(Base):
    """Another (source, id) a gift arrived under: a CRM's row for a Stripe charge, recognized by the charge id."""

    __tablename__ = "gift_aliases"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(200))
    donation_id: Mapped[int] = mapped_column(ForeignKey("donations.id"), index=True)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id"))


class DuplicatePair(Base):
    """Two gifts of different sources that look like one (same donor and amount, minutes apart), for a person to
    decide: undecided (both count), merged (`b` became a duplicate of `a`), kept (both are real)."""

    __tablename__ = "duplicate_pairs"
    __table_args__ = (
        UniqueConstraint("a_id", "b_id"),
        CheckConstraint("status IN ('undecided', 'merged', 'kept')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    a_id: Mapped[int] = mapped_column(ForeignKey("donations.id"))
    b_id: Mapped[int] = mapped_column(ForeignKey("donations.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="undecided")
    found_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(200))


class GiftBucket(Base):
    """Counted gifts summed per quarter hour (UTC) and currency, kept up to date at import (tracker.rollups).

    Every IANA zone's offset is a whole number of quarter hours, so local days and hours are
    unions of buckets. Only counted statuses are summed; `gifts` counts those whose net is positive.
    """

    __tablename__ = "gift_buckets"

    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False, comment="epoch seconds, a multiple of 900")
    amount_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_cents: Mapped[int] = mapped_column(BigInteger, default=0, comment="fees of gifts with a positive net")
    gifts: Mapped[int] = mapped_column(Integer, default=0)
    recurring_cents: Mapped[int] = mapped_column(BigInteger, default=0, comment="net of refunds")
    recurring_gifts: Mapped[int] = mapped_column(Integer, default=0)


class Refund(Base):
    """A refund reported as a row of its own (PayPal), tied to its gift by the gift's id in the same source.

    A refund whose gift has not been imported yet waits with donation_id empty and is linked when
    the gift arrives. A gift's refunded amount is the larger of what its own row says and the sum
    of its refunds, never more than its amount.
    """

    __tablename__ = "refunds"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        Index("ix_refunds_source_donation_external_id", "source", "donation_external_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(200))
    donation_external_id: Mapped[str] = mapped_column(String(200))
    donation_id: Mapped[int | None] = mapped_column(ForeignKey("donations.id"))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    refunded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id"))


ALTERNATIVES_COMMENT = "JSON: alternative copy per phase or goal state, {name: {headline, body, button}}"


class AppealVariant(Base):
    """One copy variant of the website's donation popup, for one campaign."""

    __tablename__ = "appeal_variants"
    __table_args__ = (UniqueConstraint("campaign_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200))
    headline: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    button: Mapped[str] = mapped_column(String(120))
    is_control: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    share_bp: Mapped[int | None] = mapped_column(Integer, comment="planned traffic share in basis points (10000 = 100%)")
    alternatives: Mapped[str | None] = mapped_column(Text, comment=ALTERNATIVES_COMMENT)

    campaign: Mapped[Campaign] = relationship(back_populates="variants")
    versions: Mapped[list[AppealCopyVersion]] = relationship(
        back_populates="variant", cascade="all, delete-orphan", order_by="AppealCopyVersion.version"
    )


class AppealCopyVersion(Base):
    """One version of a variant's copy. A new version starts whenever the text changes; nothing is overwritten.

    Exposures and gifts belong to the version that was live when they happened (from `valid_from`
    until the next version's).
    """

    __tablename__ = "appeal_copy_versions"
    __table_args__ = (UniqueConstraint("variant_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("appeal_variants.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    headline: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    button: Mapped[str] = mapped_column(String(120))
    alternatives: Mapped[str | None] = mapped_column(Text, comment=ALTERNATIVES_COMMENT)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)

    variant: Mapped[AppealVariant] = relationship(back_populates="versions")


class AppealDaily(Base):
    """Daily exposure counts of one popup variant (from `tracker ingest appeals`, CSV). `day` is the local date."""

    __tablename__ = "appeal_daily"

    variant: Mapped[str] = mapped_column(String(80), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    impressions: Mapped[int] = mapped_column(Integer, default=0)
    clicks: Mapped[int] = mapped_column(Integer, default=0)
    dismissals: Mapped[int] = mapped_column(Integer, default=0)
    readers: Mapped[int | None] = mapped_column(Integer, comment="distinct readers that day, when known")
    import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id"))


class AppealEvent(Base):
    """One popup event (from `tracker ingest appeals`, JSON Lines): an impression, click or dismissal by a reader."""

    __tablename__ = "appeal_events"
    __table_args__ = (
        UniqueConstraint("variant", "reader", "event", "at"),
        Index("ix_appeal_events_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    variant: Mapped[str] = mapped_column(String(80))
    event: Mapped[str] = mapped_column(String(16), comment="impression, click or dismiss")
    reader: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id"))


class AuditEntry(Base):
    """A record of an action on personal data (e.g. an export with donor names and e-mails)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200), comment="who: the operating-system user, or the dashboard login")
    action: Mapped[str] = mapped_column(String(80))
    detail: Mapped[str] = mapped_column(Text, comment="what: the kind, campaign, filters and file")
    rows: Mapped[int] = mapped_column(Integer)



class ReportRun(Base):
    """One delivery of a progress report or an alert, scheduled or by hand.

    (job, campaign, slot) is unique: a scheduled slot is the UTC time it was due, an alert's slot is
    what it announces ("goal-50"), so two schedulers on one database cannot both send it. A failed
    run is retried with backoff; a run whose owner died is taken over once its lease runs out.
    """

    __tablename__ = "report_runs"
    __table_args__ = (
        UniqueConstraint("job", "campaign_id", "slot"),
        Index("ix_report_runs_campaign_started", "campaign_id", "started_at"),
        CheckConstraint("status IN ('running', 'sent', 'written', 'skipped', 'failed', 'gave_up')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    job: Mapped[str] = mapped_column(String(80), comment="the configured job's name, 'report' by hand, 'alert'")
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    slot: Mapped[str] = mapped_column(String(80), comment="UTC time the slot was due, or the alert's key")
    kind: Mapped[str] = mapped_column(String(20), comment="report | alert")
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True,
                                                         comment="while running: another scheduler may take over after")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    owner: Mapped[str] = mapped_column(String(200), comment="host:pid of the scheduler or command that ran it")
    recipients: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(Text, default="", comment="the subject sent, or why it failed or was skipped")
    raised_cents: Mapped[int | None] = mapped_column(BigInteger, nullable=True, comment="raised as the report showed it")
    new_donors: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True,
                                                    comment="the figures reported, for --skip-unchanged")



ROLES = ("viewer", "finance", "admin")


class User(Base):
    """A dashboard login. viewer: aggregates only; finance: also donor-level downloads; admin: also users."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('viewer', 'finance', 'admin')", name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200), comment="argon2id, with its parameters and salt")
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebSession(Base):
    """A dashboard login session. The cookie carries a long random token; only its SHA-256 is stored, so
    a copy of the database cannot be used to log in. A session ends at logout, at a password change,
    when its user is removed (the rows go with the user), or when it has been idle or open too long."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, comment="SHA-256 of the cookie's token, hex")
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="updated at most once a minute")
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, comment="logout or password change")


class LoginThrottle(Base):
    """Failed logins per (user name as typed, client address): how many in a row, and when the next
    attempt may be checked (growing delays, see tracker.users). A successful login clears the count."""

    __tablename__ = "login_throttle"
    __table_args__ = (Index("ix_login_throttle_last_failure_at", "last_failure_at"),)

    username: Mapped[str] = mapped_column(String(80), primary_key=True)
    remote: Mapped[str] = mapped_column(String(64), primary_key=True, comment="the client address")
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    next_allowed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ServerSecret(Base):
    """Secrets the server generates once and keeps (the session cookie's signing key when
    TRACKER_SECRET_KEY is not set), so a restart does not log everyone out."""

    __tablename__ = "server_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ExchangeRate(Base):
    """A reference rate imported with `tracker rates import` (the ECB's layout: units of `currency` per EUR on a
    banking day); `rate` NULL is the file's N/A (no rate that day). They come on top of the bundled ECB table
    (tracker.currency), which is read from the package and never copied here."""

    __tablename__ = "exchange_rates"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    rate: Mapped[str | None] = mapped_column(String(24), comment="units per EUR as the file writes it; NULL: N/A")
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DisplayLink(Base):
    """A link for an unattended screen (the wall): viewer rights to the wall only, no password. The URL
    carries a long random token; only its SHA-256 is stored. Removing it (revoked_at) stops it at once."""

    __tablename__ = "display_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, comment="SHA-256 of the link's token, hex")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(80), comment="who ran tracker display add")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True,
                                                          comment="updated at most once a minute")


class DataRevision(Base):
    """One row counting the changes to what the figures are made of (gifts, exposures, campaigns, variants).

    Every write path bumps it in its own transaction (tracker.db.bump_revision), so a reader can
    keep aggregates until it changes: the dashboard caches its pages on it.
    """

    __tablename__ = "data_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WebhookEvent(Base):
    """One delivery a payment processor sent (its inbox): stored before it is answered, applied after.

    (provider, event_id) is unique, so a delivery sent twice is stored once. `status`: received (to
    apply), applying (a worker has it until lease_until), applied, ignored (a type the tracker does
    not use, or test mode), waiting (it concerns a gift not received yet), failed (retried at
    next_attempt_at), gave_up (failed too often: shown, replayed by hand).
    """

    __tablename__ = "webhook_events"
    __table_args__ = (
        UniqueConstraint("provider", "event_id"),
        Index("ix_webhook_events_due", "status", "next_attempt_at"),
        Index("ix_webhook_events_object", "provider", "object_id"),
        CheckConstraint("status IN ('received', 'applying', 'applied', 'ignored', 'waiting', 'failed', 'gave_up')",
                        name="status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    provider: Mapped[str] = mapped_column(String(16), comment="stripe or paypal")
    account: Mapped[str | None] = mapped_column(String(200), comment="the processor's account (Stripe) or webhook id")
    event_id: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(120))
    object_id: Mapped[str | None] = mapped_column(String(200), comment="the charge or transaction it is about")
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="when the processor made the event")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    body: Mapped[str] = mapped_column(Text, comment="the raw body, as delivered")
    status: Mapped[str] = mapped_column(String(16), default="received")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    owner: Mapped[str | None] = mapped_column(String(200), comment="host:pid of the worker applying it")
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookRefusal(Base):
    """How many deliveries were refused, by provider and reason (bad signature, too old, too large, ...)."""

    __tablename__ = "webhook_refusals"

    provider: Mapped[str] = mapped_column(String(16), primary_key=True)
    reason: Mapped[str] = mapped_column(String(40), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)


# Statuses whose gifts count towards "raised" (their amount minus any refunded amount).
# A disputed gift (a chargeback under way) is held back until the dispute ends.
def _snapshot(name: str, of, comment: str) -> Table:
    """A table holding, per closed period, a copy of `of`'s rows as they stood at the close: the same columns (so
    a query reads either through the same names, tracker.queries), keyed by the period first."""
    columns = [Column("period_id", Integer, ForeignKey("closed_periods.id", ondelete="CASCADE"), primary_key=True)]
    columns += [Column(c.name, c.type, primary_key=c.primary_key, nullable=not c.primary_key, comment=c.comment)
                for c in of.__table__.columns]
    return Table(name, Base.metadata, *columns, comment=comment)


# where a session keeps the closed periods it has read (tracker.queries); closing or reopening one forgets them
CLOSED_CACHE = "tracker.closed_periods"
closed_gifts = _snapshot("closed_gifts", Donation, "the gifts of a closed period as they stood at its close")
Index("ix_closed_gifts_period_donated_at", closed_gifts.c.period_id, closed_gifts.c.donated_at)
closed_buckets = _snapshot("closed_buckets", GiftBucket, "the rollups of a closed period as they stood at its close")
closed_donors = Table(
    "closed_donors", Base.metadata,
    Column("period_id", Integer, ForeignKey("closed_periods.id", ondelete="CASCADE"), primary_key=True),
    Column("donor_id", BigId, primary_key=True),
    Column("first_gift_at", UTCDateTime),
    comment="the first gifts of a closed period's donors as they stood at its close")


COUNTED_STATUSES = ("succeeded", "partially_refunded", "refunded")
RAISED_BASES = ("gross", "net_of_fees")
STATUSES = ("succeeded", "pending", "failed", "refunded", "partially_refunded", "disputed")
