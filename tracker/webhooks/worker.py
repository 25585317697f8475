"""Applying the inbox: each stored event through the same loader and the same rules as a file import.

A worker claims due events (tracker.webhooks.inbox.claim: two workers never take the same one),
applies a batch of them in one transaction that also marks them applied, so an event is applied
exactly once even if the worker dies half-way (its lease runs out and another takes the batch
again, from the start). If the batch fails, each event is tried alone, so one bad event fails
alone and is retried with backoff. Events arrive late, twice and out of order; the loader's rules
(tracker.ingest.states: forward-only payments and disputes, newest details) make the result that
of the final state whatever the order. A dispute or refund about a gift not received yet waits
for it.
"""

from __future__ import annotations

import json
import os
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tracker.db import bump_revision, process_name
from tracker.ingest.duplicates import find_pairs
from tracker.ingest.history import Cause
from tracker.ingest.loader import ImportSummary, apply_dispute, lock_writes, write_chunk
from tracker.ingest import pledges
from tracker.ingest.refunds import apply_refunds
from tracker.models import Donation, WebhookEvent
from tracker.webhooks import inbox, spool
from tracker.webhooks.events import (
    PAYPAL_SOURCE, STRIPE_SOURCE, DisputeEffect, EventProblem, GiftEffect, Nothing, RefundEffect, paypal_effect,
    paypal_envelope, stripe_effect, stripe_envelope,
)

SOURCES = {"stripe": STRIPE_SOURCE, "paypal": PAYPAL_SOURCE}


@dataclass
class Pass:
    """What one pass of a worker did."""

    applied: int = 0
    ignored: int = 0
    waiting: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.applied + self.ignored + self.waiting + self.failed


def effect_of(event: WebhookEvent, currency: str, rates=None):
    """What a stored event means; EventProblem when its body cannot be read or applied. `rates`: the exchange
    rates for a payment in another currency (tracker.currency.RateTable)."""
    try:
        payload = json.loads(event.body)
    except (ValueError, RecursionError):
        raise EventProblem("the stored body is not JSON") from None
    if not isinstance(payload, dict):
        raise EventProblem("the stored body is not a JSON object")
    return (stripe_effect if event.provider == "stripe" else paypal_effect)(payload, currency, rates)


def _apply(session: Session, event: WebhookEvent, currency: str, now: datetime, rates=None
           ) -> tuple[str, str | None, bool]:
    """Apply one event in the session's transaction: (its new status, why, whether a gift changed)."""
    effect = effect_of(event, currency, rates)
    source = SOURCES[event.provider]
    if isinstance(effect, Nothing):
        return "ignored", effect.reason, False
    summary = ImportSummary(path=f"{event.provider} webhook", format="webhook", source=source)
    cause = Cause(at=event.received_at, event_id=event.id)
    if isinstance(effect, GiftEffect):
        gift = effect.gift
        if effect.weak and session.scalar(select(Donation.id).where(Donation.source == source,
                                                                     Donation.external_id == gift.external_id)):
            return "ignored", f"charge {gift.external_id} is known already; its own events count it", False
        write_chunk(session, source, [gift], None, summary, rank=0, recorded_at=event.received_at, cause=cause)
        inbox.wake(session, event.provider, [gift.external_id], now=now)
        if summary.inserted:  # a new gift: is it a CRM's gift under another name?
            find_pairs(session, gift_ids=list(session.scalars(select(Donation.id).where(
                Donation.source == source, Donation.external_id == gift.external_id))), now=now)
        if event.provider == "paypal":  # refunds that came before their payment are tied now
            apply_refunds(session, source, [], None, summary, cause=cause)
        return "applied", None, True
    if isinstance(effect, DisputeEffect):
        if not apply_dispute(session, source, effect.external_id, effect.state, effect.cents, effect.at,
                             cause=Cause(at=effect.at or event.received_at, event_id=event.id)):
            return "waiting", f"waiting for {effect.external_id}, which is not received yet", False
        return "applied", None, True
    if isinstance(effect, RefundEffect):
        apply_refunds(session, source, [effect.refund], None, summary, cause=cause)
        if summary.refunds_waiting:
            return "applied", f"the refund waits for payment {effect.refund.donation_external_id}", True
        return "applied", None, True
    raise EventProblem(f"an event of kind {type(effect).__name__} cannot be applied")  # pragma: no cover


class Worker:
    """Applies due inbox events; `clock` gives now (the entry point's clock)."""

    def __init__(self, sessions: sessionmaker[Session], *, currency: str, clock: Callable[[], datetime],
                 owner: str | None = None, on_change: Callable[[], None] | None = None, batch: int = 200):
        self.sessions, self.currency, self.clock = sessions, currency, clock
        self.owner = owner or f"{process_name()}:{threading.get_ident()}"
        self.on_change, self.batch = on_change, batch
        self._rate_table, self._rates_span = None, None  # the exchange rates, kept while the imported ones stand

    def _rates(self, session: Session):
        """The exchange rates (tracker.currency.RateTable: the bundled ECB table with the imported rates on top),
        read again only when the imported ones changed (`tracker rates import`)."""
        from tracker.currency import RateTable
        from tracker.queries import exchange_rate_span, exchange_rates

        span = exchange_rate_span(session)
        if self._rates_span != span:
            self._rate_table, self._rates_span = RateTable(exchange_rates(session)), span
        return self._rate_table

    def run_once(self) -> Pass:
        """Move spooled deliveries into the inbox, then apply every event due now (claiming batches until none
        is left); what was done."""
        done = Pass()
        self.unspool()
        while True:
            ids = inbox.claim(self.sessions, self.owner, now=self.clock(), limit=self.batch)
            if not ids:
                return done
            try:
                self._batch(ids, done)
            except Exception:  # noqa: BLE001 - one event spoiled the batch: try each alone, to fail only that one
                for event_id in ids:
                    try:
                        self._batch([event_id], done)
                    except Exception as exc:  # noqa: BLE001 - recorded, retried with backoff, shown
                        self._fail(event_id, exc, done)

    def unspool(self) -> int:
        """Move the deliveries spooled while SQLite was busy (tracker.webhooks.spool) into the inbox; how many."""
        moved = 0
        for path in spool.waiting(spool.folder(self.sessions.kw["bind"])):
            try:
                provider, body, received = spool.read(path)
                envelope = (stripe_envelope if provider == "stripe" else paypal_envelope)(json.loads(body))
            except (OSError, ValueError, KeyError):
                continue  # another worker moved it meanwhile
            with self.sessions.begin() as session:
                inbox.store(session, provider, envelope, body, now=received)
            path.unlink(missing_ok=True)  # after the commit: a crash between stores it once more, the same event
            moved += 1
        return moved

    def _batch(self, ids: list[int], done: Pass) -> None:
        now = self.clock()
        counts = Pass()
        with self.sessions.begin() as session:
            lock_writes(session)
            events = list(session.scalars(select(WebhookEvent).where(
                WebhookEvent.id.in_(ids), WebhookEvent.status == "applying", WebhookEvent.owner == self.owner)
                .order_by(WebhookEvent.created_at, WebhookEvent.id)))
            changed = False
            rates = self._rates(session)  # once a batch
            for event in events:
                status, why, moved = _apply(session, event, self.currency, now, rates)
                inbox.finish(session, event, status, now=now, error=why)
                setattr(counts, status, getattr(counts, status) + 1)
                changed = changed or moved
            if changed:
                pledges.link_open(session, now=now)  # the money of a pledge, arrived by webhook
                bump_revision(session, now)
        for name in ("applied", "ignored", "waiting"):
            setattr(done, name, getattr(done, name) + getattr(counts, name))
        if changed and self.on_change:
            self.on_change()

    def _fail(self, event_id: int, exc: Exception, done: Pass) -> None:
        if not isinstance(exc, EventProblem) and os.environ.get("TRACKER_DEBUG"):
            traceback.print_exc()
        reason = str(exc) if isinstance(exc, EventProblem) else f"{exc.__class__.__name__}: {exc}"
        with self.sessions.begin() as session:
            inbox.fail(session, event_id, reason, now=self.clock())
        done.failed += 1
        done.errors.append(reason)

    def serve(self, stop: threading.Event, wake: threading.Event, interval: float = 2.0,
              log: Callable[[str], None] = lambda line: None) -> None:
        """Apply events until `stop` is set: at once when `wake` is set (a delivery was stored), else every
        `interval` seconds (for retries and events another process stored)."""
        while not stop.is_set():
            try:
                self.run_once()
            except Exception as exc:  # noqa: BLE001 - the database is away: say so, keep serving
                log(f"webhooks: could not apply events ({exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
                    "trying again")
            wake.wait(interval)
            wake.clear()
