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
--changes N (default 5): then N times a gift is entered in dec-2026 (tracker.ingest.manual, as `tracker gift
add` does: the data revision moves; a --keep database keeps them, a few dollars each) and the first request of each main callback after it is timed (the
issue's target: the Overview under 200 ms at 1M gifts); median and max.

--during-import: then, on a copy of the database, with a dashboard following the clock (as a wall screen
does: each page is worked out again at least every minute, the moment having moved), 20 threads poll the
main callbacks (Overview, last 48 hours, donors, wall) for --poll-seconds with no import (the baseline),
then again while `tracker ingest donations` loads a generated file of --import-rows gifts (bench/ingest.py's
generic layout, December 2026, --first-load no: committed every 200,000 as into a database holding gifts)
in a process of its own; it prints p50/p95/max of both, and of each callback (the issue's goal: p95 under
1 s during the import).

--server-path DIR runs the dashboard from another checkout (e.g. /work/main) for a before/after.
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

MAIN = ("kpi-cards.children", "last-48-hours.children", "donors-content.children", "wall")

AS_OF = "2026-12-28T12:00"
FLOOR = "auto-refresh.checked"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def value_for(component: str, prop: str):
    return {("campaign-select", "value"): "dec-2026", ("refresh-interval", "n_intervals"): 1,
            ("auto-refresh", "checked"): True, ("finance-kind", "value"): "daily",
            ("wall-location", "search"): "", ("wall-refresh", "n_intervals"): 1}.get((component, prop))


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


def start_server(url: str, code: str | None = None, pinned: bool = True) -> tuple[subprocess.Popen, str]:
    """`tracker serve` on a free loopback port, pinned to AS_OF unless not `pinned` (from checkout `code` when
    given)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "TRACKER_DATABASE_URL"}
    if code:
        env["PYTHONPATH"] = code
    # its output to a file: waitress says "Task queue depth is N" at every queued request, and a pipe nobody reads
    # fills up and stops the server (a request then waits for as long as the benchmark runs)
    log = tempfile.NamedTemporaryFile("w+", prefix="bench-dashboard-server-", suffix=".log", delete=False)
    server = subprocess.Popen([sys.executable, "-m", "tracker", "--db", url, "serve", "--port", str(port),
                               *(["--as-of", AS_OF] if pinned else [])], stdout=log, stderr=subprocess.STDOUT,
                              text=True, env=env, cwd=code)  # `-m` puts the working folder first on the path
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            requests.get(base + "/healthz", timeout=5)
            return server, base
        except requests.ConnectionError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(f"the dashboard did not start: {Path(log.name).read_text()[-2000:]}")
            time.sleep(0.3)


def main_bodies(base: str) -> dict[str, tuple[str, dict]]:
    """The main callbacks' (URL, body): the Overview's, the last 48 hours', the donors page's and the wall's."""
    bodies = payloads(requests.get(base + "/_dash-dependencies").json())
    wall = payloads(requests.get(base + "/wall/_dash-dependencies").json())
    wall_body = next(b for b in wall.values() if "wall-title" in b["output"])
    out = {name: (base + "/_dash-update-component", bodies[name]) for name in MAIN if name in bodies}
    out["wall"] = (base + "/wall/_dash-update-component", wall_body)
    return out


def post(session: requests.Session, target: tuple[str, dict]) -> float:
    t = time.perf_counter()
    reply = session.post(target[0], json=target[1], timeout=120)
    if reply.status_code not in (200, 204):
        raise SystemExit(f"HTTP {reply.status_code}: {reply.text[:300]}")
    return (time.perf_counter() - t) * 1000


def after_changes(url: str, base: str, n: int) -> dict[str, list[float]]:
    """Milliseconds of each main callback's first request after each of `n` gifts entered in dec-2026."""
    from tracker import db, queries
    from tracker.dates import parse_as_of
    from tracker.ingest import manual

    engine = db.make_engine(url)
    sessions = db.session_factory(engine)
    targets = main_bodies(base)
    http = requests.Session()
    for target in targets.values():
        post(http, target)  # filled once before the changes
    times: dict[str, list[float]] = {name: [] for name in targets}
    try:
        for i in range(n):
            with sessions.begin() as session:
                c = queries.get_campaign(session, "dec-2026")
                moment = parse_as_of(AS_OF, c.tz) - timedelta_minutes(7 * i + 3)
                manual.add(session, amount=f"{25 + i}", donated_at=moment.astimezone(c.tz).strftime("%Y-%m-%d %H:%M"),
                           email=f"bench-change-{i}@example.org", channel="website", timezone=c.tz, actor="bench",
                           now=parse_as_of(AS_OF, c.tz))
            for name, target in targets.items():
                times[name].append(post(http, target))
    finally:
        engine.dispose()
    return times


def timedelta_minutes(n: int):
    from datetime import timedelta

    return timedelta(minutes=n)


def poll(targets: dict[str, tuple[str, dict]], seconds: float, threads: int = 20) -> list[tuple[str, float]]:
    """(callback, latency in ms) of `threads` clients each posting the main callbacks in turn for `seconds`."""
    import threading

    out: list[tuple[str, float]] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(k: int) -> None:
        http = requests.Session()
        names = list(targets)
        i = k
        while time.monotonic() < stop:
            t = time.perf_counter()
            name = names[i % len(names)]
            try:
                ms = post(http, targets[name])
            except requests.RequestException:  # counted at the time it took (a timeout: 120 s)
                ms = (time.perf_counter() - t) * 1000
            i += 1
            with lock:
                out.append((name, ms))

    workers = [threading.Thread(target=client, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return out


def during_import(url: str, rows: int, seconds: float, code: str | None) -> tuple[list, list, float]:
    """(latencies with no import, latencies while an import of `rows` gifts runs, the import's seconds), on a
    copy of the SQLite database `url`."""
    import shutil

    from bench.ingest import generate

    source = Path(url.removeprefix("sqlite:///"))
    folder = Path(tempfile.mkdtemp(prefix="bench-dashboard-import-"))
    copy = folder / source.name
    shutil.copyfile(source, copy)
    csv = folder / f"gifts-{rows}.csv"
    generate(csv, rows, "generic", seed=4242)
    copy_url = f"sqlite:///{copy}"
    server, base = start_server(copy_url, code, pinned=False)  # following the clock, as a wall screen does
    try:
        targets = main_bodies(base)
        http = requests.Session()
        for target in targets.values():
            post(http, target)
        quiet = poll(targets, seconds)
        env = {k: v for k, v in os.environ.items() if k != "TRACKER_DATABASE_URL"}
        t = time.perf_counter()
        load = subprocess.Popen([sys.executable, "-m", "tracker", "--db", copy_url, "ingest", "donations", str(csv),
                                 "--quiet", "--timezone", "UTC", "--first-load", "no"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        busy: list[tuple[str, float]] = []
        while load.poll() is None:
            busy += poll(targets, 5)
        took = time.perf_counter() - t
        if load.returncode != 0:
            raise SystemExit(f"the import failed: {load.stdout.read()[-500:]}")
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)
    return quiet, busy, took


def summary(timed: list[tuple[str, float]]) -> str:
    values = [ms for _, ms in timed]
    return (f"{len(values):>6} requests  p50 {statistics.median(values):>7.1f} ms  p95 {percentile(values, 95):>7.1f} ms"
            f"  max {max(values):>7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="about this many gifts")
    parser.add_argument("--keep", type=Path, help="build the SQLite file in DIR and keep it (reused when present)")
    parser.add_argument("--requests", type=int, default=30, help="requests per callback")
    parser.add_argument("--pg", metavar="URL", help="use this (empty, migrated) PostgreSQL database instead of SQLite")
    parser.add_argument("--changes", type=int, default=5, help="gifts entered, each followed by the main callbacks")
    parser.add_argument("--during-import", action="store_true", help="also poll with 20 clients during an import")
    parser.add_argument("--import-rows", type=int, default=1_000_000, help="gifts in the import of --during-import")
    parser.add_argument("--poll-seconds", type=float, default=70, help="the baseline polling's length (across a minute's turn)")
    parser.add_argument("--server-path", metavar="DIR", help="run the dashboard from this checkout (before/after)")
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
    server, base = start_server(url, args.server_path)
    try:
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
        changed = after_changes(url, base, args.changes) if args.changes else {}
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
    if changed:
        print(f"first request after a data change (a gift entered in dec-2026), {args.changes} changes:")
        for name, values in changed.items():
            print(f"  {name:<32} median {statistics.median(values):>7.1f} ms  max {max(values):>7.1f} ms"
                  + ("   (target: under 200 ms)" if name.startswith("kpi-cards") else ""))
    if args.during_import and not args.pg:
        quiet, busy, took = during_import(url, args.import_rows, args.poll_seconds, args.server_path)
        print(f"20 clients polling {', '.join(MAIN)} in turn:")
        print(f"  no import:                        {summary(quiet)}")
        print(f"  during a {args.import_rows:,}-gift import ({took:.0f} s): {summary(busy)}   (goal: p95 under 1 s)")
        for name in MAIN:
            print(f"    {name:<30} no import: {summary([t for t in quiet if t[0] == name])}")
            print(f"    {'':<30} importing: {summary([t for t in busy if t[0] == name])}")
    print(json.dumps({"floor_p95_ms": round(floor95, 1), "first_visit_mb": round(sent / 1e6, 2),
                      "hourly_p50_ms": round(h50, 1), "hourly_p95_ms": round(h95, 1)}))


if __name__ == "__main__":
    main()
