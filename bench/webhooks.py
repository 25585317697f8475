"""Webhook benchmark: acknowledgements at a December-31 burst while a large import runs, against a trivial route.

    python -m bench.webhooks [--rate 50] [--seconds 60] [--rows 1000000] [--pg URL | --no-pg] [--clients 8]

Per database (SQLite, PostgreSQL): a campaign open now, then `tracker serve` (a real process with
its webhook worker) and, at the same time, `tracker ingest donations` of --rows generated gifts
(bench.ingest.generate) with `--first-load no` (chunked, as an import into a busy database is).
While the import runs, --clients threads post signed `charge.succeeded` events at --rate per second
for --seconds, and it prints:
- acknowledgements per second, and the p50 / p99 / max latency of the answers;
- the time from an acknowledgement to the gift's showing in `/api/progress` (median of ten);
- the same burst against a trivial Flask route (one POST, answers 200) on waitress in the same
  run, as the baseline, and the ratio of the p99s.
The machine is small and shared: compare the ratio, quote medians and percentiles.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

from bench.ingest import Databases, generate

ROOT = Path(__file__).resolve().parent.parent
SECRET = "whsec_bench"

TRIVIAL = """
import sys
from flask import Flask
from waitress import serve
app = Flask("trivial")
@app.post("/hooks/stripe")
def hook():
    return {"ok": True}
@app.get("/healthz")
def healthz():
    return {"ok": True}
serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=8)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(base: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2)
            return
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"the server stopped: {proc.stderr.read().decode()[-500:]}")
            time.sleep(0.2)
    raise SystemExit("the server did not start")


def signed(event: dict) -> tuple[bytes, dict]:
    body = json.dumps(event).encode()
    ts = int(time.time())
    sig = hmac.new(SECRET.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "Stripe-Signature": f"t={ts},v1={sig}"}


def charge_event(n: int, cents: int = 2500) -> dict:
    now = int(time.time())
    charge = {"id": f"ch_bench_{n}", "object": "charge", "amount": cents, "amount_refunded": 0, "currency": "usd",
              "created": now, "paid": True, "captured": True, "status": "succeeded", "livemode": True,
              "billing_details": {"email": f"bench{n % 5000}@example.org"}, "metadata": {}}
    return {"id": f"evt_bench_{n}", "object": "event", "type": "charge.succeeded", "created": now, "livemode": True,
            "data": {"object": charge}}


def burst(base: str, rate: int, seconds: int, clients: int, first: int) -> tuple[list[float], int, float]:
    """(latencies of the answered posts, non-200 answers, wall seconds) of rate x seconds posts."""
    total = rate * seconds
    latencies, failures, lock = [], [0], threading.Lock()
    start = time.monotonic()

    def client(k: int) -> None:
        for n in range(k, total, clients):
            due = start + n / rate
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            body, headers = signed(charge_event(first + n))
            t0 = time.monotonic()
            try:
                req = urllib.request.Request(base + "/hooks/stripe", data=body, headers=headers, method="POST")
                with urllib.request.urlopen(req, timeout=30) as reply:
                    ok = reply.status == 200
            except OSError:
                ok = False
            with lock:
                if ok:
                    latencies.append(time.monotonic() - t0)
                else:
                    failures[0] += 1

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, failures[0], time.monotonic() - start


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else float("nan")


def to_progress(base: str, first: int, samples: int = 10) -> list[float]:
    """Seconds from the answer to a signed event to /api/progress showing its gift."""
    out = []
    for i in range(samples):
        before = json.loads(urllib.request.urlopen(base + "/api/progress", timeout=10).read())["raised"]
        body, headers = signed(charge_event(first + i, cents=100_00 + i))
        req = urllib.request.Request(base + "/hooks/stripe", data=body, headers=headers, method="POST")
        urllib.request.urlopen(req, timeout=30).read()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 120:
            now = json.loads(urllib.request.urlopen(base + "/api/progress", timeout=10).read())["raised"]
            if now != before:
                out.append(time.monotonic() - t0)
                break
            time.sleep(0.05)
    return out


def measure(kind: str, url: str, csv: Path, args) -> list[str]:
    env = {**os.environ, "TRACKER_STRIPE_WEBHOOK_SECRET": SECRET, "TRACKER_TIMEZONE": "UTC"}
    env.pop("TRACKER_DATABASE_URL", None)
    tracker = [sys.executable, "-m", "tracker", "--db", url]
    subprocess.run(tracker + ["db", "upgrade"], env=env, check=True, capture_output=True)
    today = date.today()
    subprocess.run(tracker + ["campaign", "create", "--slug", "bench", "--name", "Bench", "--goal", "400000",
                              "--start", str(today - timedelta(days=2)), "--end", str(today + timedelta(days=30)),
                              "--timezone", "UTC"], env=env, check=True, capture_output=True)
    port = free_port()
    serve = subprocess.Popen(tracker + ["serve", "--port", str(port), "--threads", "8"], env=env, cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    trivial_port = free_port()
    trivial = subprocess.Popen([sys.executable, "-c", TRIVIAL, str(trivial_port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    trivial_base = f"http://127.0.0.1:{trivial_port}"
    try:
        wait_up(base, serve)
        wait_up(trivial_base, trivial)
        floor, floor_bad, _ = burst(trivial_base, args.rate, args.seconds, args.clients, 0)
        importing = subprocess.Popen(tracker + ["ingest", "donations", str(csv), "--quiet", "--first-load", "no"],
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(3)  # the import is writing
        hooks, bad, wall = burst(base, args.rate, args.seconds, args.clients, 0)
        still = importing.poll() is None
        progress = to_progress(base, 10_000_000)
        importing.wait()
    finally:
        for proc in (serve, trivial):
            proc.terminate()
            proc.wait(timeout=30)
    return [
        f"{kind:<10} {'tracker':<8} {len(hooks) / wall:>7.1f} {pct(hooks, 50) * 1000:>8.1f} {pct(hooks, 99) * 1000:>8.1f} "
        f"{max(hooks) * 1000:>8.1f} {bad:>5} {pct(hooks, 99) / pct(floor, 99):>10.1f}"
        f"  (import {'still running' if still else 'ended'} at the end of the burst)",
        f"{'':<10} {'trivial':<8} {len(floor) / args.seconds:>7.1f} {pct(floor, 50) * 1000:>8.1f} "
        f"{pct(floor, 99) * 1000:>8.1f} {max(floor) * 1000:>8.1f} {floor_bad:>5}",
        f"{'':<10} answer to /api/progress: median {statistics.median(progress):.2f} s, max {max(progress):.2f} s "
        f"(of {len(progress)})" if progress else f"{'':<10} answer to /api/progress: never seen",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rate", type=int, default=50, help="events per second")
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--rows", type=int, default=1_000_000, help="gifts in the import running meanwhile")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres", help="PostgreSQL admin URL")
    ap.add_argument("--no-pg", action="store_true")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, shared and noisy; {args.rate} events/s for {args.seconds} s from "
          f"{args.clients} clients while {args.rows:,} gifts import", flush=True)
    table = [f"{'database':<10} {'server':<8} {'acks/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'!200':>5} "
             f"{'p99/floor':>10}"]
    with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as tmp:
        csv = Path(tmp) / "gifts.csv"
        generate(csv, args.rows, "generic")
        dbs = Databases(Path(tmp), None if args.no_pg else args.pg)
        try:
            for kind in ["sqlite"] + ([] if args.no_pg else ["postgresql"]):
                table += measure(kind, dbs.sqlite() if kind == "sqlite" else dbs.postgres(), csv, args)
                print("\n".join(table[-3:]), flush=True)
        finally:
            dbs.drop()
    print("\n" + "\n".join(table))


if __name__ == "__main__":
    main()
