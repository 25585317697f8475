"""Export and report benchmark: every `tracker export` kind and `tracker report` format on ~1M gifts.

    python -m bench.exports [--rows 1000000] [--keep DIR]

Also `tracker report --email` (PNG chart, daily CSV attached) and one slot of `tracker schedule
--once`, both delivered to a real SMTP server on loopback (aiosmtpd, a dev dependency).

Builds the demo's four years scaled to about --rows gifts in an SQLite file (as bench/status.py
does), then times each command as its own process (median of 3), next to the same process
printing `tracker --version` (the floor of any command: interpreter and imports), measured in the
same run. 2 cores, shared and noisy: compare ratios, not seconds.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.status import GIFTS_PER_SCALE, SLUG, build

AS_OF = "2026-12-28T12:00"
COMMANDS = {
    **{f"export {k}": ["export", k] for k in ("donations", "daily", "channels", "appeals", "donors", "lybunt",
                                                "reconciliation")},
    "export donations --format xlsx": ["export", "donations", "--format", "xlsx"],
    **{f"report --format {f}": ["report", "--format", f] for f in ("text", "html", "json")},
}


def _load_variants(url: str) -> None:
    """The demo's popup variants, so the appeals export has something to export."""
    from tracker import db, demo, queries
    from tracker.manage import load_appeals

    engine = db.make_engine(url)
    with db.session_factory(engine).begin() as session:
        c = queries.get_campaign(session, SLUG)
        load_appeals(session, c, demo.variant_specs(), now=c.starts_at)
    engine.dispose()


def run(url: str, args: list[str], out: Path | None, env: dict | None = None) -> float:
    cmd = [sys.executable, "-m", "tracker", "--db", url, *args]
    if args[0] in ("export", "report"):
        cmd += ["--campaign", SLUG, "--as-of", AS_OF] + (["--out", str(out)] if out else [])
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - t
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr.strip()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="about this many gifts")
    parser.add_argument("--keep", type=Path, help="build the SQLite file in DIR and keep it (reused when present)")
    args = parser.parse_args()
    scale = max(1, round(args.rows / GIFTS_PER_SCALE))
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-exports-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"exports-{scale}.sqlite3"
    url = f"sqlite:///{path}"
    if not path.exists():
        t = time.perf_counter()
        build(url, scale)
        _load_variants(url)
        print(f"built {path.name} (demo scale {scale}) in {time.perf_counter() - t:.0f} s")
    print("machine: 2 cores, shared and noisy: compare ratios, not seconds; medians of 3 processes")
    floor = statistics.median(run(url, ["--version"], None) for _ in range(3))
    print(f"{'command':<34}{'seconds':>9}{'x floor':>9}   output")
    print(f"{'tracker --version (floor)':<34}{floor:>9.2f}{1:>9.1f}")
    for name, cmd in COMMANDS.items():
        suffix = ".xlsx" if "xlsx" in name else (".json" if "json" in name else ".txt")
        out = folder / (name.replace(" ", "_").replace("--", "") + suffix)
        seconds = statistics.median(run(url, cmd, out) for _ in range(3))
        print(f"{name:<34}{seconds:>9.2f}{seconds / floor:>9.1f}   {out.stat().st_size / 1e6:.1f} MB")
    _delivered(url, folder, floor)


def _delivered(url: str, folder: Path, floor: float) -> None:
    """report --email and one scheduled slot, through a real SMTP server on loopback."""
    import os
    import socket

    from aiosmtpd.controller import Controller

    class Count:
        def __init__(self):
            self.sizes = []

        async def handle_DATA(self, server, session, envelope):
            self.sizes.append(len(envelope.content))
            return "250 OK"

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    handler = Count()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    env = {**os.environ, "TRACKER_SMTP_HOST": "127.0.0.1", "TRACKER_SMTP_PORT": str(port),
           "TRACKER_SMTP_SECURITY": "none", "TRACKER_MAIL_FROM": "bench@example.org"}
    config = folder / "bench-schedule.toml"
    config.write_text(f'[[reports]]\nname = "hourly"\ncampaign = "{SLUG}"\ncron = "0 * * * *"\nto = ["a@example.org"]\n')
    try:
        email = [run(url, ["report", "--email", "a@example.org", "--job", "bench"], None, env) for _ in range(3)]
        # each repetition a new hourly slot (12:00, 11:00, 10:00 on the 28th), so each one delivers
        slots = [run(url, ["--config", str(config), "schedule", "--once", "--as-of", f"2026-12-28T{h}:00:30"], None, env)
                 for h in (12, 11, 10)]
    finally:
        controller.stop()
    for name, times in (("report --email", email), ("schedule --once (one slot)", slots)):
        seconds = statistics.median(times)
        print(f"{name:<34}{seconds:>9.2f}{seconds / floor:>9.1f}   {statistics.median(handler.sizes) / 1e6:.2f} MB mail")
    assert len(handler.sizes) == 6, f"expected 6 messages, the server received {len(handler.sizes)}"


if __name__ == "__main__":
    main()
