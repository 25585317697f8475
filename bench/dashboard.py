"""Dashboard benchmark: every callback's latency over HTTP against a trivial callback, and the first visit's bytes.

    python -m bench.dashboard [--rows 1000000] [--keep DIR] [--requests 30] [--pg URL]

Builds (or reuses, with --keep) the demo's four years scaled to about --rows gifts, as
bench/status.py does, starts `tracker serve` on loopback pinned to 2026-12-28 12:00 (several
waitress threads, a real process), and posts each of the dashboard's callbacks --requests times in
turn, as the page does (campaign dec-2026, the moment as pinned). "first" is each callback's first
request, computed from the database; later ones are served from the page cache until the data
changes (dashboards/cache.py), which is what every other viewer and refresh gets. The floor is the dashboard's own
trivial callback (the auto-refresh switch: one boolean in, one out) measured in the same run. It
prints p50 and p95 per callback and p95 / floor p95; the issue's target is at most 3x.

It also fetches the first page the way a browser does on a first visit (the HTML, then every
script and stylesheet it names, asking for gzip) and prints the bytes transferred and the bytes
those files hold uncompressed (target: under 2 MB transferred).

It also times the last 48 hours' hourly series in process (tracker.service.hourly: this campaign's 48 hours
and the same campaign hours of each earlier year, from the quarter-hour rollups), --requests runs each in a new
session, next to the floor (the issue's target: under 200 ms at 1M gifts); the callback that shows it
(last-48-hours) is among the callbacks.
2 cores, shared and noisy: compare ratios, quote medians and percentiles, not single runs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from bench.status import GIFTS_PER_SCALE, build

AS_OF = "2026-12-28T12:00"
FLOOR = "auto-refresh.checked"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def value_for(component: str, prop: str):
    return {("campaign-select", "value"): "dec-2026", ("refresh-interval", "n_intervals"): 1,
            ("auto-refresh", "checked"): True, ("finance-kind", "value"): "daily"}.get((component, prop))


def payloads(deps: list[dict]) -> dict[str, dict]:
    """One request body per callback, as the renderer sends it (named by its inputs)."""
    out = {}
    for dep in deps:
        inputs = [{"id": i["id"], "property": i["property"], "value": value_for(i["id"], i["property"])}
                  for i in dep["inputs"]]
        state = [{"id": s["id"], "property": s["property"], "value": value_for(s["id"], s["property"])}
                 for s in dep.get("state", [])]
        outputs = [{"id": o.split(".")[0].lstrip("."), "property": o.split(".")[-1]}
                   for o in dep["output"].strip(".").split("...")]
        name = dep["output"].strip(".").split("...")[0]
        body = {"output": dep["output"], "outputs": outputs if len(outputs) > 1 else outputs[0], "inputs": inputs,
                "state": state, "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"]}
        out[FLOOR if name == "refresh-interval.disabled" else name] = body
    return out


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def first_visit(base: str) -> tuple[int, int, list[str]]:
    """(bytes transferred with compression asked for, bytes uncompressed, component files cached briefly)."""
    session = requests.Session()

    def fetch(url: str) -> tuple[int, int, str, str]:
        packed = session.get(url, headers={"Accept-Encoding": "gzip, deflate, br"}, stream=True)
        wire = len(packed.raw.read(decode_content=False))
        plain = session.get(url, headers={"Accept-Encoding": "identity"})
        return wire, len(plain.content), packed.headers.get("Cache-Control", ""), plain.text

    sent, full, _cache, page = fetch(base + "/")
    urls = re.findall(r'<script src="([^"]+)"', page) + re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)
    short_lived = []
    for url in ["/_dash-layout", "/_dash-dependencies", *urls]:
        wire, plain, cache, _ = fetch(base + url if url.startswith("/") else url)
        sent, full = sent + wire, full + plain
        if url.startswith("/_dash-component-suites") and "max-age=31536000" not in cache:
            short_lived.append(url.split("?")[0].rsplit("/", 1)[-1])
    return sent, full, short_lived


def browser_visit(base: str) -> tuple[int, int, int] | None:
    """A first visit in headless Chromium (when installed): (bytes transferred, bytes decoded, requests),
    counting everything the page loads until the chart is drawn (plotly.js arrives after the HTML)."""
    import shutil

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return None
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--disable-gpu", "--disable-dev-shm-usage"])
        page = browser.new_page()
        seen = []
        page.on("requestfinished", lambda request: seen.append(request))
        page.goto(base + "/")
        page.wait_for_selector("#cumulative-graph .main-svg", timeout=120_000)
        page.wait_for_load_state("networkidle")
        wire = decoded = 0
        for request in seen:
            sizes = request.sizes()
            wire += sizes["responseBodySize"] + sizes["responseHeadersSize"]
            response = request.response()
            decoded += len(response.body()) if response else 0
        browser.close()
    return wire, decoded, len(seen)


def hourly_times(url: str, runs: int) -> list[float]:
    """Milliseconds of 1 + `runs` calls of service.hourly for dec-2026 at AS_OF, each in a new session (the first
    with a new connection and nothing cached)."""
    from tracker import db, queries, service
    from tracker.dates import parse_as_of

    engine = db.make_engine(url)
    sessions = db.session_factory(engine)
    times = []
    try:
        for _ in range(runs + 1):
            t = time.perf_counter()
            with sessions.begin() as session:
                c = queries.get_campaign(session, "dec-2026")
                h = service.hourly(session, c, as_of=parse_as_of(AS_OF, c.tz))
            times.append((time.perf_counter() - t) * 1000)
        assert len(h.hours) == 48 and h.earlier, "the hourly series should hold 48 hours and earlier years"
    finally:
        engine.dispose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="about this many gifts")
    parser.add_argument("--keep", type=Path, help="build the SQLite file in DIR and keep it (reused when present)")
    parser.add_argument("--requests", type=int, default=30, help="requests per callback")
    parser.add_argument("--pg", metavar="URL", help="use this (empty, migrated) PostgreSQL database instead of SQLite")
    args = parser.parse_args()
    scale = max(1, round(args.rows / GIFTS_PER_SCALE))
    if args.pg:
        url = args.pg
        build(url, scale)
    else:
        folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"exports-{scale}.sqlite3"  # the same file as bench.exports --keep DIR
        url = f"sqlite:///{path}"
        if not path.exists():
            t = time.perf_counter()
            build(url, scale)
            print(f"built {path.name} (demo scale {scale}) in {time.perf_counter() - t:.0f} s")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "TRACKER_DATABASE_URL"}
    server = subprocess.Popen([sys.executable, "-m", "tracker", "--db", url, "serve", "--port", str(port),
                               "--as-of", AS_OF], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                requests.get(base + "/healthz", timeout=5)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit(f"the dashboard did not start: {server.stdout.read() if server.poll() is not None else ''}")
                time.sleep(0.3)
        sent, full, short_lived = first_visit(base)
        bodies = payloads(requests.get(base + "/_dash-dependencies").json())
        session = requests.Session()
        times: dict[str, list[float]] = {name: [] for name in bodies}
        cold: dict[str, float] = {}
        for name, body in bodies.items():  # the first of each: computed (nothing cached yet)
            t = time.perf_counter()
            reply = session.post(base + "/_dash-update-component", json=body)
            cold[name] = (time.perf_counter() - t) * 1000
            if reply.status_code not in (200, 204):
                raise SystemExit(f"{name}: HTTP {reply.status_code}: {reply.text[:300]}")
        for _ in range(args.requests):
            for name, body in bodies.items():
                t = time.perf_counter()
                session.post(base + "/_dash-update-component", json=body)
                times[name].append((time.perf_counter() - t) * 1000)
        in_browser = browser_visit(base)  # after the timings: its callbacks fill the page cache
    finally:
        server.terminate()
        server.wait(timeout=30)
    floor95 = percentile(times[FLOOR], 95)
    print(f"machine: 2 cores, shared and noisy; {args.requests} requests per callback, interleaved; "
          f"database {'PostgreSQL' if args.pg else 'SQLite'}, ~{scale * GIFTS_PER_SCALE:,} gifts")
    print(f"{'callback (first output)':<34}{'first ms':>9}{'p50 ms':>9}{'p95 ms':>9}{'p95/floor':>11}")
    for name in [FLOOR, *sorted(n for n in times if n != FLOOR)]:
        p50, p95 = statistics.median(times[name]), percentile(times[name], 95)
        label = f"{name} (floor)" if name == FLOOR else name
        print(f"{label:<34}{cold[name]:>9.1f}{p50:>9.1f}{p95:>9.1f}{p95 / floor95:>11.1f}")
    first, *hourly = hourly_times(url, args.requests)
    h50, h95 = statistics.median(hourly), percentile(hourly, 95)
    print(f"{'hourly series, in process':<34}{first:>9.1f}{h50:>9.1f}{h95:>9.1f}{h95 / floor95:>11.1f}"
          "   (target: under 200 ms)")
    print(f"first page's HTML and scripts: {sent / 1e6:.2f} MB transferred ({full / 1e6:.2f} MB uncompressed)")
    if in_browser:
        wire, decoded, count = in_browser
        print(f"first visit in Chromium, until the chart is drawn: {wire / 1e6:.2f} MB transferred in {count} "
              f"requests ({decoded / 1e6:.2f} MB uncompressed)")
        sent = wire
    if short_lived:
        print(f"component files without a long cache lifetime: {', '.join(short_lived)}")
    print(json.dumps({"floor_p95_ms": round(floor95, 1), "first_visit_mb": round(sent / 1e6, 2),
                      "hourly_p50_ms": round(h50, 1), "hourly_p95_ms": round(h95, 1)}))


if __name__ == "__main__":
    main()
