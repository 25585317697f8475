"""Matching funds: what each gift earns from a campaign's match pools. Pure: no database, no clock.

Given the pools' rules and the qualifying candidates (tracker.queries.match_gifts), `match` returns each gift's
match in integer cents and each pool's totals at a moment. The rules (README: Matching funds):

- A gift is matched by a pool when it counts (succeeded, partially refunded, refunded with something left),
  is in the campaign's currency, was donated in the pool's window [starts_at, ends_at) and at or before as-of,
  its payment method is not excluded, and, for a pool of new donors only, its donor's first counted gift ever
  was donated in the pool's window.
- Its counted amount is its amount minus refunds (gross of fees, whatever the campaign's raised basis). With a
  recurring multiplier (NewsMatch: 12), a donor's first recurring gift ever counts that many times its amount,
  and that donor's later installments in the pool's window count nothing (the multiple stands for them); the
  installments of a donor whose first recurring gift came before the pool count as they are.
- The cap is used up in donation order, then by gift id, so every database gives the same answer. A gift's
  match is ratio x counted amount, rounded once, half to even, to the cent; then at most what remains of the
  donor's per-donor cap (the match their earlier gifts earned counts against it), then at most what remains
  of the pool's cap. Nothing is carried: a refund is worked out from scratch, so a refunded gift's match goes
  to the later gifts the cap had left short.
- Each pool matches on its own: a gift in two pools earns from both.
- The money terms (ratio, caps, multiplier) can change (NewsMatch raised its cap on December 1, 2021): a gift
  is matched under the terms in effect at its donation time, and what remains is the cap in effect at as-of
  less what was earned. The other rules (window, methods, new donors only) are the pool's as it is now.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from tracker.errors import ValueProblem

MAX_RATIO = Decimal(100)
TERM_FIELDS = ("ratio", "cap_cents", "per_donor_cap_cents", "recurring_multiplier")


def parse_ratio(text: str) -> str:
    """A match ratio as given ("1" for 1:1, "2" for 2:1, "0.5" for 50 cents a dollar), normalized decimal text.

    Raises ValueProblem for text that is not a number above 0 and at most 100 with at most four decimals."""
    raw = (text or "").strip()
    if raw.endswith(":1"):
        raw = raw[:-2]
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value <= 0 or value > MAX_RATIO:
        raise ValueProblem(f"ratio {text!r}: give the match per dollar given, above 0 and at most 100, "
                           "e.g. 1 (1:1), 2 (2:1) or 0.5")
    if value.as_tuple().exponent < -4:
        raise ValueProblem(f"ratio {text!r}: give at most four decimals, e.g. 0.5")
    normalized = value.normalize()
    return f"{normalized:f}"


def ratio_fraction(ratio: str) -> Fraction:
    """The stored ratio text as an exact fraction."""
    return Fraction(Decimal(ratio))


def ratio_text(ratio: Fraction | str) -> str:
    """A ratio for people: "1:1", "2:1", "0.5:1"."""
    value = ratio_fraction(ratio) if isinstance(ratio, str) else ratio
    d = Decimal(value.numerator) / Decimal(value.denominator)
    return f"{d.normalize():f}:1"


@dataclass(frozen=True)
class Terms:
    """A pool's money terms, as they stood from some moment on."""

    ratio: Fraction
    cap_cents: int
    per_donor_cap_cents: int | None = None
    recurring_multiplier: int = 1


@dataclass(frozen=True)
class Pool:
    """A match pool's rules. `terms`: (from when, terms), the first from None (the pool's creation), then each
    edit of a money term in order; `received`: (from when, cents received in all) the same way."""

    id: int
    name: str
    starts_at: datetime
    ends_at: datetime  # exclusive
    terms: tuple[tuple[datetime | None, Terms], ...]
    new_donors_only: bool = False
    exclude_methods: frozenset[str] = frozenset()
    received: tuple[tuple[datetime | None, int], ...] = ((None, 0),)

    def terms_at(self, moment: datetime) -> Terms:
        """The terms in effect at `moment` (an edit at that very moment applies)."""
        found = self.terms[0][1]
        for since, terms in self.terms:
            if since is None or since <= moment:
                found = terms
        return found

    def received_at(self, moment: datetime) -> int:
        found = 0
        for since, cents in self.received:
            if since is None or since <= moment:
                found = cents
        return found

    @property
    def ratio(self) -> Fraction:
        return self.terms[-1][1].ratio

    def live(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_at


@dataclass(frozen=True)
class Gift:
    """A candidate for matching: a counted gift of the campaign's currency, with what the rules need."""

    id: int
    donated_at: datetime
    donor_id: int
    cents: int  # amount minus refunds
    recurring: bool = False
    method: str | None = None  # as recorded (gift_details), else card/paypal from the processor; None: unknown
    donor_first_gift_at: datetime | None = None  # the donor's first counted gift ever
    first_recurring_at: datetime | None = None  # when the donor's first counted recurring gift ever was donated
    first_recurring_id: int | None = None  # and its id


@dataclass(frozen=True)
class PoolResult:
    """One pool at a moment: what its gifts earned (cents), how many gifts and donors, the cap in effect and what
    remains of it, what was received, and each gift's match."""

    pool: Pool
    earned_cents: int = 0
    gifts: int = 0
    donors: int = 0
    cap_cents: int = 0
    remaining_cents: int = 0
    received_cents: int = 0
    per_gift: dict[int, int] = field(default_factory=dict)

    @property
    def pending_cents(self) -> int:
        """Earned and not received yet (never negative)."""
        return max(0, self.earned_cents - self.received_cents)

    @property
    def used_percent(self) -> int:
        """Earned as a whole percentage of the cap in effect, rounded down (100 only when nothing remains)."""
        if self.cap_cents <= 0:
            return 100
        return 100 if self.remaining_cents == 0 else min(99, self.earned_cents * 100 // self.cap_cents)


def versions(current: dict, changes: list[tuple[datetime, str, str | None, str | None]],
             fields: tuple[str, ...]) -> list[tuple[datetime | None, dict]]:
    """The values of `fields` over time, from the values now and the edits (at, field, old, new), oldest first:
    [(None, as created), (first edit's at, after it), ...]. Edits of other fields are left out."""
    relevant = sorted((c for c in changes if c[1] in fields), key=lambda c: c[0])
    state = {k: current[k] for k in fields}
    out: list[tuple[datetime | None, dict]] = []
    for at, name, old, _new in reversed(relevant):
        out.append((at, dict(state)))
        state[name] = old
    out.append((None, dict(state)))
    return list(reversed(out))


def qualifies(pool: Pool, gift: Gift) -> bool:
    """Whether `gift` is one the pool matches (its counted amount may still be 0)."""
    if gift.cents <= 0 or not pool.starts_at <= gift.donated_at < pool.ends_at:
        return False
    if gift.method is not None and gift.method in pool.exclude_methods:
        return False
    if pool.new_donors_only and (gift.donor_first_gift_at is None or gift.donor_first_gift_at < pool.starts_at):
        return False
    return True


def counted_cents(pool: Pool, gift: Gift) -> int:
    """What the gift counts for the pool before the ratio: its amount minus refunds, times the multiplier for a
    new monthly donor's first recurring gift, 0 for that donor's later installments in the pool's window."""
    if not gift.recurring or gift.first_recurring_at is None:
        return gift.cents
    first_terms = pool.terms_at(gift.first_recurring_at)
    if first_terms.recurring_multiplier <= 1:
        return gift.cents
    if gift.first_recurring_id == gift.id:
        return gift.cents * first_terms.recurring_multiplier
    if pool.starts_at <= gift.first_recurring_at < pool.ends_at:
        return 0  # the first installment's multiple stands for this one
    return gift.cents


def round_half_even(value: Fraction) -> int:
    """Cents from an exact amount of cents: half to even (Python's round of a Fraction)."""
    return round(value)


class PoolMatch:
    """One pool's match worked out gift by gift: `add` the candidates in donation order, then by gift id (the
    order the cap is used up in), and `result` at the end. `done` says when no later gift can earn anything (the
    pool's cap is used up under every one of its terms, a cap raised later included), so a reader can stop."""

    def __init__(self, pool: Pool, as_of: datetime):
        self.pool, self.as_of = pool, as_of
        self.used = 0
        self.by_donor: dict[int, int] = {}
        self.per_gift: dict[int, int] = {}
        self._most = max(t.cap_cents for _, t in pool.terms)
        self._last: tuple[datetime, int] | None = None

    @property
    def done(self) -> bool:
        return self.used >= self._most

    def add(self, g: Gift) -> None:
        key = (g.donated_at, g.id)
        if self._last is not None and key <= self._last:
            raise ValueError(f"gift {g.id} came out of donation order: the cap is used up in that order")
        self._last = key
        if g.donated_at > self.as_of or not qualifies(self.pool, g):
            return
        terms = self.pool.terms_at(g.donated_at)
        want = round_half_even(terms.ratio * counted_cents(self.pool, g))
        if terms.per_donor_cap_cents is not None:
            want = min(want, max(0, terms.per_donor_cap_cents - self.by_donor.get(g.donor_id, 0)))
        got = max(0, min(want, terms.cap_cents - self.used))
        if got > 0:
            self.per_gift[g.id] = got
            self.used += got
            self.by_donor[g.donor_id] = self.by_donor.get(g.donor_id, 0) + got

    def result(self) -> PoolResult:
        pool, as_of = self.pool, self.as_of
        cap = pool.terms_at(as_of).cap_cents
        return PoolResult(pool=pool, earned_cents=self.used, gifts=len(self.per_gift), donors=len(self.by_donor),
                          cap_cents=cap, remaining_cents=max(0, cap - self.used),
                          received_cents=pool.received_at(as_of), per_gift=self.per_gift)


def match_pool(pool: Pool, gifts: list[Gift], as_of: datetime) -> PoolResult:
    """One pool's match of `gifts` (any order; those after `as_of` are left out)."""
    m = PoolMatch(pool, as_of)
    for g in sorted(gifts, key=lambda g: (g.donated_at, g.id)):
        if m.done:
            break
        m.add(g)
    return m.result()


def match(pools: list[Pool], gifts: list[Gift], as_of: datetime) -> list[PoolResult]:
    """Each pool's match of `gifts` at `as_of`, in the order of `pools` (each pool on its own: a gift in two pools
    earns from both)."""
    return [match_pool(p, gifts, as_of) for p in pools]


@dataclass(frozen=True)
class MatchSummary:
    """A campaign's match pools at a moment, and their totals."""

    pools: tuple[PoolResult, ...] = ()
    as_of: datetime | None = None

    @property
    def earned_cents(self) -> int:
        return sum(p.earned_cents for p in self.pools)

    @property
    def received_cents(self) -> int:
        return sum(p.received_cents for p in self.pools)

    @property
    def pending_cents(self) -> int:
        return sum(p.pending_cents for p in self.pools)

    @property
    def remaining_cents(self) -> int:
        """What the pools can still match: each pool's remaining cap, of those whose window has not ended."""
        return sum(p.remaining_cents for p in self.pools if self.as_of is None or self.as_of < p.pool.ends_at)

    def live(self) -> tuple[PoolResult, ...]:
        """The pools whose window holds as-of."""
        return tuple(p for p in self.pools if self.as_of is not None and p.pool.live(self.as_of))

    @property
    def live_remaining_cents(self) -> int:
        """What the pools open at as-of can still match (the popup's {match_remaining})."""
        return sum(p.remaining_cents for p in self.live())

    @property
    def live_ratio(self) -> Fraction:
        """The match a dollar given now earns: the ratios of the open pools with room left added up (two 1:1
        pools: 2:1); when none has room, those of the open pools; when none is open, 0."""
        with_room = [p for p in self.live() if p.remaining_cents > 0]
        return sum((p.pool.terms_at(self.as_of).ratio for p in (with_room or self.live())), Fraction(0))


def with_terms(pool: Pool, since: datetime, **changed) -> Pool:
    """`pool` with its money terms changed from `since` on (for tests and what-ifs)."""
    new = replace(pool.terms_at(since), **changed)
    return replace(pool, terms=(*[t for t in pool.terms if t[0] is None or t[0] < since], (since, new)))


def _term(name: str, value):
    if name == "ratio":
        return ratio_fraction(value)
    return None if value is None else int(value)


def pool_of(row, changes: list[tuple]) -> Pool:
    """A Pool from a stored pool (any object with MatchPool's attributes) and its edits (at, field, old, new, ...),
    oldest first: the money terms and what was received as they stood over time."""
    edits = [(c[0], c[1], c[2], c[3]) for c in changes]
    current = {"ratio": row.ratio, "cap_cents": row.cap_cents, "per_donor_cap_cents": row.per_donor_cap_cents,
               "recurring_multiplier": row.recurring_multiplier, "received_cents": row.received_cents}
    terms = tuple((since, Terms(**{k: _term(k, v[k]) for k in TERM_FIELDS}))
                  for since, v in versions(current, edits, TERM_FIELDS))
    received = tuple((since, int(v["received_cents"] or 0))
                     for since, v in versions(current, edits, ("received_cents",)))
    methods = frozenset(m for m in (row.exclude_methods or "").split(",") if m)
    return Pool(id=row.id, name=row.name, starts_at=row.starts_at, ends_at=row.ends_at, terms=terms,
                new_donors_only=bool(row.new_donors_only), exclude_methods=methods, received=received)
