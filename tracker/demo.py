"""The demo newsroom: three earlier Decembers and the current one, built the same way every time.

Giving has the shape real year-end giving has: a steady trickle through the year, a bump on
Giving Tuesday, and a back-loaded December in which the last three days bring a large share
and December 31 is many times an average day. Gifts are mostly small with a few large ones;
donors are new, retained or lapsed-and-back; several channels; a donation popup with three
copy variants. Everything comes from seeded random generators, so the data depends only on
the years and is cut at `now`.

The demo has its own moment: December 28, 12:00 of the current campaign in the demo's zone, when
the campaign is in full swing, whatever today is (`tracker demo --as-of now` takes the clock). The
moment it was built for is kept as its import's started_at, so that `tracker serve` and `tracker
status` can say how to see it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tracker.appeals import VariantSpec
from tracker.currency import processor_conversion
from tracker.dates import UTC, parse_as_of, zone
from tracker.db import bump_revision
from tracker.errors import UsageError, ValueProblem
from tracker.ingest.appeals import clear as clear_exposures
from tracker.ingest.loader import ImportSummary, write_chunk
from tracker.ingest.records import GiftDetails, NormalizedDonation
from tracker.manage import create_campaign, load_appeals
from tracker.projection.curves import giving_tuesday
from tracker.models import (AppealDaily, Pledge, AppealVariant, Campaign, Donation, Donor, DuplicatePair, GiftAlias, GiftBucket,
                            GiftDetail, GiftHistory, ImportBatch, MatchChange, MatchPool, Refund)

TIMEZONE = "America/Los_Angeles"
SOURCE = "demo"
ORGANIZATION = "The Harbor Light, a nonprofit newsroom"
# year offset from the current campaign -> (goal in dollars, what the full December actually raises, roughly)
GOALS = {-3: (320_000, 333_000), -2: (350_000, 341_000), -1: (375_000, 392_000), 0: (400_000, 414_000)}
YEAR_ROUND_SHARE = 2.0  # January-November raise about twice what December does: December is a third of the year
CHANNELS_DECEMBER = [("website", 52), ("email", 26), ("social", 6), ("direct mail", 11), ("event", 5)]
CHANNELS_YEAR = [("website", 45), ("email", 20), ("social", 8), ("direct mail", 12), ("event", 15)]
MOMENT = (12, 28, 12)  # the demo's own moment: month, day, hour of the current campaign (in full swing)
BATCH_FILENAME = "(demo)"
COMMON_AMOUNTS = [10, 15, 20, 25, 25, 35, 50, 50, 50, 75, 100, 100, 150, 250]
# readers abroad: a share of the card gifts is given in euros or pounds and converted by the processor (Stripe's
# Converted Amount), at about these rates (USD per unit); the dollars counted are the same as without them
ABROAD_SHARE = 0.04
ABROAD = [("EUR", 1.09, 3), ("GBP", 1.27, 2)]  # currency, USD per unit, weight

VARIANTS = [
    {
        "key": "countdown",
        "name": "Countdown (control)",
        "headline": "Before you go: {days_left} left to reach our goal",
        "body": (
            "December brings about a third of the year's support for local reporting. We have raised {raised} of "
            "our {goal} goal, and the deadline is {deadline}. If you have never given, join the {donors} readers "
            "who already have. If you have, thank you: will you give again? Any amount helps."
        ),
        "button": "Donate now",
        "control": True,
        "share_bp": 3400,
        "alternatives": {
            "no_gifts_yet": {
                "body": (
                    "December brings about a third of the year's support for local reporting. Our goal is {goal}, "
                    "and the deadline is {deadline}. Be the first reader to give this month, or, if you gave "
                    "before, thank you: will you give again? Any amount helps."
                ),
            },
            "last_day": {
                "headline": "Last day: {gap} to go before {deadline}",
            },
            "stretch_goal": {
                "headline": "We passed {original_goal}. Can we reach {goal}?",
                "body": (
                    "Readers carried us past our {original_goal} goal, so we raised it: we have {raised} of {goal},"
                    " and the deadline is {deadline}. If you have never given, join the {donors} readers who "
                    "already have. Any amount helps."
                ),
            },
            "goal_reached": {
                "headline": "We did it: {raised} for local news. Thank you!",
                "body": (
                    "{donors} readers, {new_donors} of them giving for the first time, carried us past our {goal} "
                    "goal. Every gift until {deadline} still goes to next year's reporting."
                ),
                "button": "Add your gift",
            },
        },
    },
    {
        "key": "join-us",
        "name": "Join the newsroom",
        "headline": "Don't leave yet: this newsroom runs on readers like you",
        "body": (
            "No paywall, no billionaire owner: {donors} readers fund the reporting you just read, and {new_donors} "
            "of them gave for the first time this month. We are {gap} short of {goal} with {days_left} to go. "
            "Become a donor today, or give again if you already are. Every gift counts."
        ),
        "button": "Join them",
        "control": False,
        "share_bp": 3300,
        "alternatives": {
            "no_gifts_yet": {
                "body": (
                    "No paywall, no billionaire owner: readers fund the reporting you just read. Our goal is {goal}"
                    " with {days_left} to go. Be the first to give this month, or give again if you already are a "
                    "donor. Every gift counts."
                ),
            },
            "last_day": {
                "body": (
                    "No paywall, no billionaire owner: {donors} readers fund the reporting you just read, and "
                    "{new_donors} of them gave for the first time this month. Today is our last day, and we are "
                    "{gap} short of {goal}. Become a donor before {deadline}, or give again if you already are. "
                    "Every gift counts."
                ),
            },
            "goal_reached": {
                "body": (
                    "No paywall, no billionaire owner: {donors} readers fund the reporting you just read, and "
                    "{new_donors} of them gave for the first time this month. Together they passed our {goal} goal."
                    " Become one of them today. Every gift counts."
                ),
            },
        },
    },
    {
        "key": "gap",
        "name": "Close the gap",
        "headline": "We're {percent}% of the way there. Help close the last {gap}.",
        "body": (
            "About a third of our yearly support arrives in December, most of it in the final days. The goal is "
            "{goal} by {deadline}. First-time donors and longtime supporters alike: a gift of any size today keeps "
            "local news free for everyone."
        ),
        "button": "Close the gap",
        "control": False,
        "share_bp": 3300,
        "alternatives": {
            "stretch_goal": {
                "headline": "We passed {original_goal}! Help close the last {gap} to {goal}.",
            },
            "goal_reached": {
                "headline": "You did it: {percent}% of our {goal} goal.",
                "body": (
                    "About a third of our yearly support arrives in December, and this year readers went past the "
                    "goal. Thank you. A gift of any size before {deadline} keeps local news free for everyone next "
                    "year too."
                ),
                "button": "Give again",
            },
        },
    },
]
# relative draw of each variant's gifts per impression (the demo's "truth" for the appeals page)
VARIANT_PULL = {"countdown": 1.0, "join-us": 1.22, "gap": 1.08}

FIRST = ["Alex", "Maria", "Sam", "Jordan", "Priya", "Chen", "Fatima", "José", "Ana", "Lee", "Noor", "Olga",
         "Kwame", "Sofia", "Ravi", "Hannah", "Diego", "Mei", "Tom", "Zoë", "Amir", "Grace", "Ibrahim", "Lucía"]
LAST = ["Garcia", "Nguyen", "Smith", "Okafor", "Kowalski", "Haddad", "Johnson", "Müller", "Tanaka", "Silva",
        "O'Brien", "Patel", "Rossi", "Kim", "Andersen", "Núñez", "Dubois", "Cohen", "Walker", "Ali"]


@dataclass(frozen=True)
class DemoSummary:
    campaigns: int
    donations: int
    donors: int
    hint: str | None


def current_year(now: datetime) -> int:
    """The year of the demo's current campaign: this year's December from November on, else last year's."""
    local = now.astimezone(zone(TIMEZONE))
    return local.year if local.month >= 11 else local.year - 1


def default_moment(now: datetime) -> datetime:
    """The demo's own moment: Dec 28, 12:00 of the current campaign year (at `now`) in the demo's zone."""
    month, day, hour = MOMENT
    return datetime(current_year(now), month, day, hour, tzinfo=zone(TIMEZONE))


def resolve_moment(text: str | None, now: datetime) -> tuple[datetime, bool]:
    """(the moment to build the demo for, whether it follows the clock) from `tracker demo --as-of`:
    nothing gives the demo's own moment, "now" the clock (`now`), else the moment given (naive = demo's zone)."""
    raw = (text or "").strip()
    if not raw:
        return default_moment(now), False
    if raw.lower() == "now":
        return now, True
    try:
        return parse_as_of(raw, zone(TIMEZONE)), False
    except ValueProblem as exc:
        raise UsageError(f"--as-of: {exc}; or leave it out for the demo's own moment (Dec 28, 12:00), "
                         "or --as-of now for the clock") from None


def label(moment: datetime) -> str:
    """How the dashboard names the demo's moment: "demo as of Dec 28, 12:00"."""
    local = moment.astimezone(zone(TIMEZONE))
    return f"demo as of {local:%b} {local.day}, {local:%H:%M}"


def built_for(session: Session) -> datetime | None:
    """The moment the demo in this database was built for; None when it holds no demo or campaigns of its own."""
    if session.scalar(select(func.count()).select_from(Campaign).where(Campaign.demo.is_(False))):
        return None
    if not session.scalar(select(func.count()).select_from(Campaign).where(Campaign.demo.is_(True))):
        return None
    return session.scalar(select(ImportBatch.started_at)
                          .where(ImportBatch.source == SOURCE, ImportBatch.filename == BATCH_FILENAME)
                          .order_by(ImportBatch.id.desc()).limit(1))


def as_of_text(moment: datetime) -> str:
    """The moment as --as-of takes it in the demo's zone: 2026-12-28T12:00 (with seconds when it has them)."""
    local = moment.astimezone(zone(TIMEZONE))
    return f"{local:%Y-%m-%dT%H:%M}" + (f":{local:%S}" if local.second else "")


def notice(session: Session, command: str) -> str | None:
    """One line for `tracker serve` / `tracker status` without --as-of on a demo database: the moment the
    demo was built for and how to see it then; None when the database holds no demo."""
    moment = built_for(session)
    if moment is None:
        return None
    local = moment.astimezone(zone(TIMEZONE))
    shown = as_of_text(moment)
    extra = f" --campaign dec-{current_year(moment)}" if command == "status" else ""
    return (f"this database holds the demo built for {local:%b} {local.day}, {local:%H:%M} ({shown} {TIMEZONE}); "
            f"to see it as built: tracker {command}{extra} --as-of {shown}")


def december_day_weight(day: date) -> float:
    """How much a December day raises relative to an ordinary early-December day."""
    d = day.day
    weight = 1.0 + 0.025 * d
    if day == giving_tuesday(day.year):
        weight *= 3.0
    weight *= {24: 0.6, 25: 0.5, 26: 1.6, 27: 1.8, 28: 2.1, 29: 2.9, 30: 4.6, 31: 11.0}.get(d, 1.0)
    return weight


def _hour_weights(last_day: bool) -> list[float]:
    base = [0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 0.9, 1.2, 1.4, 1.4, 1.3, 1.3, 1.2, 1.1, 1.0, 1.0, 1.1, 1.3, 1.5,
            1.6, 1.5, 1.1, 0.6]
    if last_day:  # the final evening rush before midnight
        base = base[:18] + [1.8, 2.3, 2.9, 3.6, 4.4, 5.2]
    return base


def _amount_cents(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.87:
        dollars = rng.choice(COMMON_AMOUNTS)
    elif r < 0.99:
        dollars = rng.choice([200, 250, 300, 500, 500, 750])
    else:
        dollars = rng.choice([1000, 1000, 1500, 2500, 5000, 10000])
    cents = dollars * 100
    if rng.random() < 0.08:  # fee-covering donors give odd amounts
        cents += round(cents * 0.029) + 30
    return cents


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([k for k, _ in weighted], weights=[w for _, w in weighted])[0]


# the current campaign's pledges: (days after Dec 1 and hour, donor's place in the pool, dollars, kind, expected
# as (months after December, day), reference). PayPal Giving Fund pays gifts of December 16-31 around January 25.
PLEDGES = (
    ((8, 10), 11, 2_500, "daf", (1, 8), "DAF-FIDELITY-20431"),
    ((15, 14), 57, 150, "paypal_giving_fund", (1, 10), None),
    ((17, 9), 140, 100, "paypal_giving_fund", (1, 25), None),
    ((19, 20), 233, 250, "paypal_giving_fund", (1, 25), None),
    ((20, 11), 301, 1_000, "check", (0, 27), "CHECK-5521"),
    ((23, 16), 402, 500, "paypal_giving_fund", (1, 25), None),
    ((25, 10), 5, 25_000, "match", (2, 15), "MATCH-2026-HARBOR"),
    ((27, 15), 77, 5_000, "daf", (1, 20), "DAF-SCHWAB-88120"),
)


def _pledges(session: Session, generator: _Generator, year: int, now: datetime) -> None:
    """A few pledges of the current campaign (money promised, not received yet), those made by `now`: the
    dashboard's "committed, not yet received" beside raised, one of them overdue at the demo's own moment."""
    from tracker.ingest.pledges import NewPledge, store

    tz = zone(TIMEZONE)
    made = []
    for i, ((day, hour), place, dollars, kind, (months, expected_day), reference) in enumerate(PLEDGES, 1):
        at = datetime.combine(date(year, 12, 1) + timedelta(days=day), time(hour), tzinfo=tz)
        if at > now or not generator.pool:
            continue
        key, email, name = generator.pool[place % len(generator.pool)]
        expected = date(year, 12, expected_day) if months == 0 else date(year + 1, months, expected_day)
        made.append(NewPledge(external_id=f"demo-pledge-{year}-{i}", donor_key=key, email=email, name=name,
                              amount_cents=dollars * 100, currency="USD", pledged_at=at.astimezone(UTC),
                              expected_at=expected, kind=kind, reference=reference))
    store(session, SOURCE, made, actor="demo", now=now)


class _Generator:
    """Builds gifts year by year from one seeded generator, keeping the donor pool between years."""

    def __init__(self, first_year: int):
        self.rng = random.Random(f"tracker-demo-{first_year}")
        self.tz = zone(TIMEZONE)
        self.pool: list[tuple[str, str, str]] = []  # every donor so far: (key, email, name)
        self.givers: dict[int, list[tuple[str, str, str]]] = {}  # year -> donors who gave that year
        self.seen: dict[int, set[str]] = {}
        self.serial = 0
        self.abroad = random.Random(f"tracker-demo-abroad-{first_year}")  # its own stream: the gifts stay the same

    def _donor(self, year: int, returning_share: float) -> tuple[str, str, str]:
        rng = self.rng
        last_year = self.givers.get(year - 1)
        if self.pool and rng.random() < returning_share:
            # most returning donors gave last year (retained); the rest come back after a gap, or again this year
            choice = rng.choice(last_year if last_year and rng.random() < 0.6 else self.pool)
        else:
            n = len(self.pool) + 1
            first, last = rng.choice(FIRST), rng.choice(LAST)
            local = f"{first}.{last}".lower().replace("'", "").encode("ascii", "ignore").decode()
            choice = (f"email:{local}.{n}@example.org", f"{local}.{n}@example.org", f"{first} {last}")
            self.pool.append(choice)
        seen = self.seen.setdefault(year, set())
        if choice[0] not in seen:
            seen.add(choice[0])
            self.givers.setdefault(year, []).append(choice)
        return choice

    def _gift(self, moment: datetime, channel: str, year: int, returning_share: float,
              variant: str | None) -> NormalizedDonation:
        rng = self.rng
        key, email, name = self._donor(year, returning_share)
        amount = _amount_cents(rng)
        r = rng.random()
        status, refunded = "succeeded", 0
        if r < 0.012:
            status, refunded = "refunded", amount
        elif r < 0.017:
            status, refunded = "partially_refunded", amount // 2
        elif r < 0.027:
            status = "failed"
        self.serial += 1
        card = channel in ("website", "email", "social")
        details = self._abroad(amount, moment) if card else None
        return NormalizedDonation(
            line=self.serial,
            external_id=f"demo-{year}-{self.serial:07d}",
            amount_cents=amount,
            donated_at=moment.astimezone(UTC),
            donor_key=key,
            email=email,
            name=name,
            currency="USD",
            status=status,
            refunded_cents=refunded,
            fee_cents=(amount * 22 + 500) // 1000 + 30 if card else 0,
            channel=channel,
            appeal_variant=variant,
            recurring=card and rng.random() < 0.12,
            details=details,
        )

    def _abroad(self, amount_cents: int, moment: datetime) -> GiftDetails | None:
        """For some card gifts, what a reader abroad gave: the amount in EUR or GBP that the processor converted
        into `amount_cents`, with the processor's rate (converted / given) of the gift's day."""
        a = self.abroad
        if a.random() >= ABROAD_SHARE:
            return None
        currency, usd_per_unit, _ = a.choices(ABROAD, weights=[w for _, _, w in ABROAD])[0]
        rate = usd_per_unit * a.uniform(0.985, 1.015)
        given = max(1, round(amount_cents / rate))
        conversion = processor_conversion(currency, "USD", given, amount_cents, moment.astimezone(UTC).date(), "stripe")
        return GiftDetails(original_cents=given, original_currency=currency, rate=conversion.rate_text,
                           rate_date=conversion.rate_date, rate_source=conversion.source)

    def _moment(self, day: date, last_day: bool) -> datetime:
        hour = self.rng.choices(range(24), weights=_hour_weights(last_day))[0]
        second = self.rng.randrange(3600)
        return datetime.combine(day, time(hour, second // 60, second % 60), tzinfo=self.tz)

    def year(self, year: int, december_target_dollars: int) -> list[NormalizedDonation]:
        """All gifts of one calendar year: January-November, then December's campaign.

        Gifts are drawn until the counted total reaches the target, so each December ends near it.
        """
        rng = self.rng
        gifts: list[NormalizedDonation] = []
        start, days = date(year, 1, 1), (date(year, 12, 1) - date(year, 1, 1)).days
        raised, target = 0, int(december_target_dollars * YEAR_ROUND_SHARE) * 100
        while raised < target:
            day = start + timedelta(days=rng.randrange(days))
            gift = self._gift(self._moment(day, False), _pick(rng, CHANNELS_YEAR), year, 0.55, None)
            gifts.append(gift)
            raised += _counted(gift)
        december = [date(year, 12, d) for d in range(1, 32)]
        weights = [december_day_weight(d) for d in december]
        variants = [(v["key"], int(v["share_bp"] * VARIANT_PULL[v["key"]])) for v in VARIANTS]
        raised, target = 0, december_target_dollars * 100
        while raised < target:
            day = rng.choices(december, weights=weights)[0]
            channel = _pick(rng, CHANNELS_DECEMBER)
            variant = _pick(rng, variants) if channel == "website" and rng.random() < 0.6 else None
            gift = self._gift(self._moment(day, day.day == 31), channel, year, 0.5, variant)
            gifts.append(gift)
            raised += _counted(gift)
        return gifts


def variant_specs() -> list[VariantSpec]:
    """The demo's popup variants (the same as data/appeals.toml)."""
    return [VariantSpec(key=v["key"], name=v["name"], headline=v["headline"], body=v["body"], button=v["button"],
                        control=v["control"], active=True, share_bp=v["share_bp"], alternatives=v["alternatives"])
            for v in VARIANTS]


def _exposures(gifts: list[NormalizedDonation], now: datetime, rng: random.Random) -> list[AppealDaily]:
    """Daily popup counts that fit the gifts: traffic split by the planned shares, about 0.5% of the
    impressions of the control turning into a gift (more for the variants that pull more)."""
    tz = zone(TIMEZONE)
    per_day: dict[date, int] = {}
    for g in gifts:
        if g.appeal_variant:
            day = g.donated_at.astimezone(tz).date()
            per_day[day] = per_day.get(day, 0) + 1
    mean_pull = sum(v["share_bp"] * VARIANT_PULL[v["key"]] for v in VARIANTS) / 10_000
    rows = []
    for day, gifts_that_day in sorted(per_day.items()):
        traffic = gifts_that_day / (0.005 * mean_pull)
        for v in VARIANTS:
            impressions = max(1, round(traffic * v["share_bp"] / 10_000 * rng.uniform(0.98, 1.02)))
            clicks = round(impressions * 0.031 * VARIANT_PULL[v["key"]] * rng.uniform(0.9, 1.1))
            rows.append(AppealDaily(variant=v["key"], day=day, impressions=impressions, clicks=clicks,
                                    dismissals=round(impressions * rng.uniform(0.55, 0.65)),
                                    readers=round(impressions / rng.uniform(1.5, 1.7))))
    return rows


def _counted(gift: NormalizedDonation) -> int:
    return gift.amount_cents - gift.refunded_cents if gift.status != "failed" else 0


def add_newsmatch(session: Session, campaign: Campaign) -> None:
    """The demo's match pools: NewsMatch, 1:1 up to $1,000 per donor and $15,000 in all over the campaign, a new
    monthly donor's first gift counted twelve times, cash and in-kind gifts not matched (used up on Giving
    Tuesday); and a board member's "every gift doubled from 6 p.m. to midnight on December 31, up to $20,000"."""
    from tracker.match_pools import add_pool

    made = campaign.starts_at - timedelta(days=2)
    add_pool(session, campaign, name="NewsMatch", ratio="1", cap_cents=15_000_00, per_donor_cap_cents=1_000_00,
             starts_at=campaign.starts_at, ends_at=campaign.ends_at, recurring_multiplier=12,
             exclude_methods="cash,in_kind", actor="demo", now=made)
    add_pool(session, campaign, name="Board match", ratio="1", cap_cents=20_000_00,
             starts_at=campaign.ends_at - timedelta(hours=6), ends_at=campaign.ends_at, actor="demo", now=made)


def build(session: Session, *, now: datetime) -> DemoSummary:
    """Replace the demo data in the database with the demo as it stands at `now`.

    Refuses (UsageError) when the database holds campaigns or gifts that are not the demo's.
    """
    own_campaigns = session.scalar(select(func.count()).select_from(Campaign).where(Campaign.demo.is_(False)))
    own_gifts = session.scalar(select(func.count()).select_from(Donation).where(Donation.source != SOURCE))
    if own_campaigns or own_gifts:
        raise UsageError(
            "this database holds campaigns or gifts of your own; run the demo on another database, "
            "e.g. tracker --db sqlite:///demo.sqlite3 demo"
        )
    clear_exposures(session)
    for table in (Pledge, GiftHistory, GiftDetail, GiftAlias, DuplicatePair, GiftBucket, Refund, Donation, Donor, ImportBatch,
                  AppealVariant, MatchChange, MatchPool, Campaign):
        session.execute(delete(table))

    tz = zone(TIMEZONE)
    current = current_year(now)
    years = [current + offset for offset in sorted(GOALS)]
    batch = ImportBatch(filename=BATCH_FILENAME, sha256="-" * 64, format="demo", source=SOURCE, started_at=now)
    session.add(batch)
    session.flush()
    summary = ImportSummary(path="(demo)", format="demo", source=SOURCE, import_id=batch.id)
    generator = _Generator(years[0])
    donors: set[str] = set()
    for year in years:
        goal, target = GOALS[year - current]
        campaign = create_campaign(
            session, slug=f"dec-{year}", name=f"Year-end {year}", goal_cents=goal * 100, currency="USD",
            timezone=TIMEZONE, start=date(year, 12, 1), end=date(year, 12, 31), now=now, demo=True,
        )
        if year == current:
            load_appeals(session, campaign, variant_specs(), now=campaign.starts_at - timedelta(days=2))
            add_newsmatch(session, campaign)
        gifts = [g for g in generator.year(year, target) if g.donated_at <= now]
        if year == current:
            session.add_all(_exposures(gifts, now, random.Random(f"tracker-demo-popup-{year}")))
        gifts.sort(key=lambda g: g.donated_at)
        donors.update(g.donor_key for g in gifts)
        for i in range(0, len(gifts), 5000):
            write_chunk(session, SOURCE, gifts[i:i + 5000], batch.id, summary)
        if year == current:
            _pledges(session, generator, year, now)
    batch.rows_read = batch.inserted = summary.inserted
    batch.status, batch.finished_at = "completed", now
    bump_revision(session, now)
    session.flush()

    hint = None
    opens = datetime.combine(date(current, 12, 1), time(0), tzinfo=tz)
    if now < opens:
        hint = (
            f"the demo's current campaign dec-{current} opens on {opens:%B} 1, so nothing is raised in it yet; "
            f"to see it in full swing, leave --as-of out (the demo's own moment, {current}-12-28T12:00)"
        )
    return DemoSummary(campaigns=len(years), donations=summary.inserted, donors=len(donors), hint=hint)
