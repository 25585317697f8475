"""Delivery torture: a few hundred Stripe events, each delivered one to three times, shuffled, from
several clients at once, to a real `tracker serve` on loopback (killed with SIGKILL mid-burst and
started again) and a second worker (`tracker webhooks process`) running beside it. The result must
equal the same gifts imported once from Stripe's export: nothing doubled, nothing lost."""

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import select

import hooks as h
from tracker import db
from tracker.models import Donation, WebhookEvent

ROOT = Path(__file__).parent.parent
CHARGES = 120


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def story(rng: random.Random):
    """(events in the order they happened, the final rows of the Stripe export)."""
    events, rows = [], []
    start = datetime(2026, 12, 2, 17, tzinfo=timezone.utc)
    for i in range(CHARGES):
        cid, at = f"ch_t{i:03d}", start + timedelta(hours=5 * i)
        cents = rng.choice([1000, 2500, 5000, 10_000, 25_000]) + rng.choice([0, 0, 33])
        email = f"d{i % 70}@example.org"
        invoice = f"in_{i}" if i % 7 == 0 else None
        events.append(h.event(f"evt_{i}_paid", "charge.succeeded",
                              h.charge(cid, cents, at, email=email, customer=f"cus_{i % 70}", invoice=invoice), at))
        if invoice:
            events.append(h.event(f"evt_{i}_inv", "invoice.paid", {"id": invoice, "object": "invoice", "charge": cid,
                                                                  "amount_paid": cents, "currency": "usd",
                                                                  "created": int(at.timestamp()),
                                                                  "customer_email": email}, at))
        refunded, dispute = 0, ""
        kind = rng.random()
        if kind < 0.15:
            refunded = cents // 2 if rng.random() < 0.5 else cents
            events.append(h.event(f"evt_{i}_ref", "charge.refunded", h.charge(cid, cents, at, email=email,
                          customer=f"cus_{i % 70}", refunded=refunded, invoice=invoice), at + timedelta(days=1)))
        elif kind < 0.30:
            dispute = rng.choice(["won", "lost", "needs_response"])
            events.append(h.event(f"evt_{i}_dc", "charge.dispute.created",
                                  h.dispute(f"dp_{i}", cid, cents, "needs_response", at), at + timedelta(days=2)))
            events.append(h.event(f"evt_{i}_cu", "charge.updated", h.charge(cid, cents, at, email=email,
                          customer=f"cus_{i % 70}", disputed=True, invoice=invoice), at + timedelta(days=2, hours=1)))
            if dispute != "needs_response":
                events.append(h.event(f"evt_{i}_dx", "charge.dispute.closed",
                                      h.dispute(f"dp_{i}", cid, cents, dispute, at), at + timedelta(days=9)))
        elif kind < 0.40:
            events.append(h.event(f"evt_{i}_up", "charge.updated", h.charge(cid, cents, at, email=email,
                          customer=f"cus_{i % 70}", invoice=invoice), at + timedelta(hours=1)))
        rows.append(f"{cid},{at:%Y-%m-%d %H:%M:%S},{cents / 100:.2f},{refunded / 100:.2f},usd,true,Paid,{email},"
                    f"cus_{i % 70},{invoice or ''},{dispute},{cents / 100:.2f}\n")
    header = ("id,Created date (UTC),Amount,Amount Refunded,Currency,Captured,Status,Customer Email,Customer ID,"
              "Invoice ID,Dispute Status,Disputed Amount\n")
    return events, header + "".join(rows)


def final_state(url: str):
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(Donation.external_id, Donation.amount_cents, Donation.refunded_cents,
                                       Donation.status, Donation.recurring, Donation.dispute_status)).all()
            donors = conn.execute(select(Donation.donor_id).distinct()).all()
        return {r[0]: tuple(r[1:]) for r in rows}, len(donors)
    finally:
        engine.dispose()


class Server:
    def __init__(self, url: str, env: dict):
        self.url, self.env, self.port, self.proc = url, env, free_port(), None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.proc = subprocess.Popen([sys.executable, "-m", "tracker", "--db", self.url, "serve", "--port",
                                      str(self.port), "--threads", "8"], cwd=ROOT, env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.base + "/healthz", timeout=2)
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise AssertionError(self.proc.stderr.read().decode())
                time.sleep(0.2)
        raise AssertionError("tracker serve did not start")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def test_shuffled_repeated_concurrent_deliveries_with_a_kill_equal_one_import_of_the_export(db_url, tmp_path, postgres):
    rng = random.Random(2026)
    events, export = story(rng)
    deliveries = [ev for ev in events for _ in range(rng.choice([1, 1, 2, 3]))]
    rng.shuffle(deliveries)
    env = {**os.environ, "TRACKER_STRIPE_WEBHOOK_SECRET": h.SECRET, "TRACKER_TIMEZONE": "America/Los_Angeles"}
    env.pop("TRACKER_DATABASE_URL", None)

    def campaign(url):
        subprocess.run([sys.executable, "-m", "tracker", "--db", url, "campaign", "create", "--slug", "dec-2026",
                        "--name", "Y", "--goal", "400000", "--start", "2026-12-01", "--end", "2026-12-31",
                        "--timezone", "America/Los_Angeles"], cwd=ROOT, env=env, check=True, capture_output=True)

    campaign(db_url)
    server = Server(db_url, env)
    server.start()
    started = time.monotonic()
    acked: set[str] = set()
    lock = threading.Lock()

    def deliver(ev) -> None:
        for _ in range(40):  # like Stripe: retried until acknowledged (here: while the server is down)
            try:
                code, _ = h.send_stripe(server.base, ev)
            except OSError:
                code = 0
            if code == 200:
                with lock:
                    acked.add(ev["id"])
                return
            time.sleep(0.25)
        raise AssertionError(f"{ev['id']} was never acknowledged")

    second_worker_stop = threading.Event()

    def second_worker():
        while not second_worker_stop.is_set():
            subprocess.run([sys.executable, "-m", "tracker", "--db", db_url, "webhooks", "process"], cwd=ROOT, env=env,
                           capture_output=True)
            time.sleep(0.2)

    worker = threading.Thread(target=second_worker, daemon=True)
    worker.start()
    try:
        half = len(deliveries) // 2
        with ThreadPoolExecutor(max_workers=6) as clients:
            list(clients.map(deliver, deliveries[:half]))
            server.kill()  # mid-burst: what was acknowledged must not be lost
            server.start()
            list(clients.map(deliver, deliveries[half:] + rng.sample(deliveries[:half], 40)))  # and some again
        delivered = time.monotonic() - started
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            engine = db.make_engine(db_url)
            with engine.connect() as conn:
                open_ = conn.execute(select(WebhookEvent.event_id).where(
                    WebhookEvent.status.in_(("received", "applying", "failed")))).all()
                statuses = dict(conn.execute(select(WebhookEvent.event_id, WebhookEvent.status)).all())
            engine.dispose()
            waiting = [e for e, s in statuses.items() if s == "waiting"]
            if not open_ and not waiting:
                break
            time.sleep(0.5)
    finally:
        second_worker_stop.set()
        worker.join(timeout=60)
        server.stop()
    print(f"{len(deliveries) + 40} deliveries of {len(events)} events: delivered in {delivered:.0f} s, "
          f"settled in {time.monotonic() - started:.0f} s")
    assert acked == {ev["id"] for ev in events} == set(statuses), "an acknowledged event was lost"
    assert not [e for e, s in statuses.items() if s not in ("applied", "ignored")], statuses
    via_hooks, hook_donors = final_state(db_url)
    # the same gifts, imported once from Stripe's export into a database of their own
    expected_url = (f"sqlite:///{tmp_path / 'export.sqlite3'}" if db_url.startswith("sqlite") else postgres.create())
    engine = db.make_engine(expected_url)
    db.upgrade(engine)
    engine.dispose()
    campaign(expected_url)
    path = tmp_path / "unified_payments.csv"
    path.write_text(export, encoding="utf-8")
    subprocess.run([sys.executable, "-m", "tracker", "--db", expected_url, "ingest", "donations", str(path), "--quiet"],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    via_export, export_donors = final_state(expected_url)
    assert len(via_hooks) == CHARGES and via_hooks == via_export and hook_donors == export_donors

    def raised(url):
        out = subprocess.run([sys.executable, "-m", "tracker", "--db", url, "status", "--as-of", "2027-01-05", "--json"],
                             cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout
        return {k: json.loads(out)[k] for k in ("raised", "donations", "donors", "new_donors")}

    assert raised(db_url) == raised(expected_url)
