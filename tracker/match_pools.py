"""Write-side operations on match pools (`tracker match add|edit|remove|receive`): validate what a person asked
for, then write it, each edit recorded in match_changes with who and when. What a pool's gifts earn is worked
out on reading (tracker.matching); nothing here stores a match.

Functions take the session first and never commit; the entry point owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from tracker import queries
from tracker.db import bump_revision
from tracker.errors import UsageError
from tracker.names import check_name
from tracker.ingest.manual import METHODS as MANUAL_METHODS
from tracker.matching import parse_ratio
from tracker.models import Campaign, MatchChange, MatchPool

# every payment method a gift can carry: entered by hand, or card / paypal from the processor
METHODS = (*MANUAL_METHODS, "card", "paypal")
MAX_MULTIPLIER = 24
FIELDS = ("name", "ratio", "cap_cents", "per_donor_cap_cents", "starts_at", "ends_at", "new_donors_only",
          "recurring_multiplier", "exclude_methods")


def parse_methods(text: str | None) -> str | None:
    """--exclude-methods as stored: known methods, comma-separated, sorted; None for none."""
    if text is None or not text.strip() or text.strip().lower() == "none":
        return None
    names = sorted({m.strip().lower().replace("-", "_") for m in text.split(",") if m.strip()})
    unknown = [m for m in names if m not in METHODS]
    if unknown:
        raise UsageError(f"--exclude-methods: {', '.join(unknown)} is not a payment method; give some of "
                         f"{', '.join(METHODS)}, comma-separated (e.g. cash,in_kind), or none")
    return ",".join(names) or None


def _check(campaign: Campaign, values: dict) -> None:
    name = values.get("name")
    if name is not None:
        values["name"] = check_name(name, "the pool", "--name NewsMatch", 80)
    if values.get("cap_cents") is not None and values["cap_cents"] <= 0:
        raise UsageError("the cap must be more than zero, e.g. --cap 15000")
    if values.get("per_donor_cap_cents") is not None and values["per_donor_cap_cents"] <= 0:
        raise UsageError("the per-donor cap must be more than zero, e.g. --per-donor-cap 1000 (or none)")
    m = values.get("recurring_multiplier")
    if m is not None and not 1 <= m <= MAX_MULTIPLIER:
        raise UsageError(f"the recurring multiplier must be 1 to {MAX_MULTIPLIER}, e.g. --recurring-multiplier 12")
    if values.get("starts_at") is not None and values.get("ends_at") is not None \
            and values["ends_at"] <= values["starts_at"]:
        raise UsageError("the pool's window ends before it starts: give --to (or --window-end) after --from "
                         "(or --window-start)")
    if "ratio" in values:
        parse_ratio(values["ratio"])  # already normalized by the entry point; refuses what is not


def add_pool(session: Session, campaign: Campaign, *, name: str, ratio: str, cap_cents: int,
             starts_at: datetime, ends_at: datetime, actor: str, now: datetime,
             per_donor_cap_cents: int | None = None, new_donors_only: bool = False, recurring_multiplier: int = 1,
             exclude_methods: str | None = None) -> MatchPool:
    """Add a match pool to `campaign`. Raises UsageError (nothing written) for a name taken on the campaign, a
    cap that is not positive, a window that ends before it starts, a bad ratio or multiplier."""
    values = dict(name=name, ratio=ratio, cap_cents=cap_cents, per_donor_cap_cents=per_donor_cap_cents,
                  starts_at=starts_at, ends_at=ends_at, recurring_multiplier=recurring_multiplier)
    _check(campaign, values)
    name = name.strip()
    if any(p.name.lower() == name.lower() for p in queries.list_match_pools(session, campaign)):
        raise UsageError(f"{campaign.slug} has a match pool named {name!r} already; change it with: "
                         f"tracker match edit {name!r}, or choose another name")
    pool = MatchPool(campaign_id=campaign.id, name=name, ratio=ratio, cap_cents=cap_cents,
                     per_donor_cap_cents=per_donor_cap_cents, starts_at=starts_at, ends_at=ends_at,
                     new_donors_only=new_donors_only, recurring_multiplier=recurring_multiplier,
                     exclude_methods=exclude_methods, received_cents=0, created_at=now, created_by=actor)
    session.add(pool)
    session.flush()
    bump_revision(session, now)
    return pool


def stored(value) -> str | None:
    """A pool's value as its history keeps it: text (cents as integers, instants ISO 8601 UTC, flags true/false)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


@dataclass
class PoolEdited:
    changed: list[tuple[str, str | None, str | None]] = field(default_factory=list)


def _latest(session: Session, pool: MatchPool, names: set[str]) -> datetime | None:
    found = [c[0] for c in queries.match_changes(session, [pool.id])[pool.id] if c[1] in names]
    return max(found) if found else None


def edit_pool(session: Session, campaign: Campaign, pool: MatchPool, *, actor: str, now: datetime,
              **wanted) -> PoolEdited:
    """Change the given fields of `pool` (FIELDS), each recorded with `actor` and `now`. The money terms (ratio,
    caps, multiplier) apply to gifts donated from `now` on (an edit dated December 1 raises the cap from then);
    the other fields to every gift. Fields given with their current value are left alone. Raises UsageError,
    writing nothing, for an unknown field, a bad value, or an edit dated before the pool's last edit of a field
    it changes (its history would not read in order)."""
    unknown = set(wanted) - set(FIELDS)
    if unknown:
        raise UsageError(f"cannot edit {', '.join(sorted(unknown))} of a match pool")
    merged = {k: getattr(pool, k) for k in FIELDS} | wanted
    _check(campaign, {k: merged[k] for k in ("starts_at", "ends_at")} | wanted)
    if "name" in wanted:
        wanted["name"] = wanted["name"].strip()
        if any(p.id != pool.id and p.name.lower() == wanted["name"].lower()
               for p in queries.list_match_pools(session, campaign)):
            raise UsageError(f"{campaign.slug} has a match pool named {wanted['name']!r} already; choose another name")
    changes = {k: wanted[k] for k in FIELDS if k in wanted and getattr(pool, k) != wanted[k]}
    result = PoolEdited()
    if not changes:
        return result
    latest = _latest(session, pool, set(changes))
    if latest is not None and now < latest:
        raise UsageError(f"the pool's last edit of {', '.join(changes)} is dated {latest.isoformat()}: an edit "
                         "cannot be dated before it (give --as-of at or after it)")
    for key, value in changes.items():
        old = getattr(pool, key)
        result.changed.append((key, stored(old), stored(value)))
        session.add(MatchChange(pool_id=pool.id, at=now, actor=actor, field=key, old_value=stored(old),
                                new_value=stored(value)))
        setattr(pool, key, value)
    session.flush()
    bump_revision(session, now)
    return result


def receive(session: Session, pool: MatchPool, *, cents: int, at: datetime, actor: str, now: datetime) -> tuple[int, int] | None:
    """Record that the pool's match money received comes to `cents` in all from `at` on (a second payment: the
    new total). Returns (old, new), or None when it already said so. Raises UsageError for a negative amount or a
    date before the last receipt recorded."""
    if cents < 0:
        raise UsageError("--amount: give the match money received in all so far, e.g. 15000 (0 to take it back)")
    if pool.received_cents == cents:
        return None
    latest = _latest(session, pool, {"received_cents"})
    if latest is not None and at < latest:
        raise UsageError(f"the last receipt for {pool.name} is dated {latest.date().isoformat()}: give --on that day "
                         "or later")
    old = pool.received_cents
    session.add(MatchChange(pool_id=pool.id, at=at, actor=actor, field="received_cents", old_value=str(old),
                            new_value=str(cents)))
    pool.received_cents = cents
    session.flush()
    bump_revision(session, now)
    return old, cents


def remove_pool(session: Session, pool: MatchPool, *, now: datetime) -> int:
    """Delete a match pool and its history; returns how many edits went with it. Its gifts are not touched."""
    n = len(queries.match_changes(session, [pool.id])[pool.id])
    session.execute(delete(MatchChange).where(MatchChange.pool_id == pool.id))
    session.delete(pool)
    session.flush()
    bump_revision(session, now)
    return n


def delete_campaign_pools(session: Session, campaign: Campaign) -> int:
    """Delete the campaign's match pools with their history (a campaign being deleted); how many pools."""
    pools = queries.list_match_pools(session, campaign)
    if pools:
        ids = [p.id for p in pools]
        session.execute(delete(MatchChange).where(MatchChange.pool_id.in_(ids)))
        session.execute(delete(MatchPool).where(MatchPool.id.in_(ids)))
    return len(pools)
