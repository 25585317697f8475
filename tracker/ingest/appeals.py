"""Import popup exposure data: daily counts per variant (CSV) or raw events (JSON Lines).

- CSV, one row per variant and local day: `date, variant, impressions` and optionally `clicks,
  dismissals, readers`. A day imported again replaces that day's counts (a corrected export wins),
  so re-running an import never counts twice.
- JSON Lines, one event per line: `{"timestamp": ..., "variant": ..., "event": "impression" |
  "click" | "dismiss", "reader": ...}`. An event is identified by all four, so the same event
  imported twice is stored once.

Bad rows are reported as file:line: reason, written to NAME.rejects.csv, and the good rows still load.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session, sessionmaker

from tracker.dates import parse_date, parse_timestamp
from tracker.errors import InputFileError, RowError, ValueProblem
from tracker.ingest.csvfile import CsvFile, file_sha256, open_text, snake
from tracker.ingest.rejects import RejectsFile, default_rejects_path
from tracker.db import bump_revision
from tracker.models import AppealDaily, AppealEvent, ImportBatch

EVENTS = {"impression": "impression", "impressions": "impression", "view": "impression", "click": "click",
          "clicks": "click", "dismiss": "dismiss", "dismissal": "dismiss", "close": "dismiss"}
CHUNK = 5000


@dataclass
class ExposureSummary:
    path: str
    kind: str  # "daily" or "events"
    rows_read: int = 0
    inserted: int = 0
    replaced: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    rejects_path: str | None = None


def _count(text: str, what: str, required: bool) -> int | None:
    raw = (text or "").strip().replace(",", "")
    if not raw:
        if required:
            raise ValueProblem(f"{what} is empty; write a whole number such as 1200")
        return None
    if not raw.isdigit():
        raise ValueProblem(f"{what} {text!r} is not a whole number; write e.g. 1200")
    return int(raw)


def _daily_rows(path: Path, reject) -> list[dict]:
    csv_file = CsvFile(path)
    try:
        names = [snake(h) for h in csv_file.header]
        missing = [c for c in ("date", "variant", "impressions") if c not in names]
        if missing:
            raise InputFileError(
                f"{path}: missing column(s) {', '.join(missing)}; daily counts need date, variant, impressions "
                "(and optionally clicks, dismissals, readers)"
            )
        idx = {n: names.index(n) for n in ("date", "variant", "impressions", "clicks", "dismissals", "readers")
               if n in names}
        rows: dict[tuple[str, date], dict] = {}
        for line, values in csv_file.rows():

            def get(name: str) -> str:
                i = idx.get(name)
                return values[i] if i is not None and i < len(values) else ""

            try:
                day = parse_date(get("date"))
                variant = get("variant").strip()
                if not variant:
                    raise ValueProblem("variant is empty; write the variant's key, e.g. countdown")
                row = {"variant": variant, "day": day, "impressions": _count(get("impressions"), "impressions", True),
                       "clicks": _count(get("clicks"), "clicks", False) or 0,
                       "dismissals": _count(get("dismissals"), "dismissals", False) or 0,
                       "readers": _count(get("readers"), "readers", False)}
                if row["clicks"] > row["impressions"]:
                    raise ValueProblem(f"clicks ({row['clicks']}) exceed impressions ({row['impressions']})")
            except ValueProblem as exc:
                reject(line, str(exc), values)
                continue
            rows[(variant, day)] = row  # a later row for the same variant and day replaces an earlier one
        return list(rows.values())
    finally:
        csv_file.close()


def _event_rows(path: Path, tz: ZoneInfo | None, reject) -> list[dict]:
    rows: dict[tuple, dict] = {}
    with open_text(path) as fh:
        for line, text in enumerate(fh, 1):
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
                if not isinstance(obj, dict):
                    raise ValueProblem("the line is not a JSON object; write one {...} per line")
                at = parse_timestamp(str(obj.get("timestamp") or ""), tz)
                variant = str(obj.get("variant") or "").strip()
                if not variant:
                    raise ValueProblem("variant is missing; add \"variant\": \"<key>\"")
                event = EVENTS.get(str(obj.get("event") or "").strip().lower())
                if event is None:
                    raise ValueProblem(f"event {obj.get('event')!r} is not impression, click or dismiss")
                reader = str(obj.get("reader") or obj.get("reader_id") or "").strip()
                if not reader:
                    raise ValueProblem("reader is missing; add \"reader\": \"<anonymous reader id>\"")
            except json.JSONDecodeError as exc:
                reject(line, f"not valid JSON ({exc.msg} at column {exc.colno})", [text.rstrip("\n")])
                continue
            except ValueProblem as exc:
                reject(line, str(exc), [text.rstrip("\n")])
                continue
            rows[(variant, reader, event, at)] = {"variant": variant, "reader": reader[:200], "event": event, "at": at}
    return list(rows.values())


def import_exposures(sessions: sessionmaker[Session], path: Path, *, tz: ZoneInfo | None, clock,
                     rejects: Path | None = None) -> ExposureSummary:
    """Import one exposure file (kind by extension: .jsonl/.ndjson events, else CSV daily counts), in one transaction."""
    if not path.exists():
        raise InputFileError(f"{path}: no such file")
    kind = "events" if path.suffix.lower() in (".jsonl", ".ndjson") else "daily"
    summary = ExposureSummary(path=str(path), kind=kind)
    rejects_path = rejects or default_rejects_path(path)
    header = ["raw line"] if kind == "events" else CsvFile(path).header
    rejects_file = RejectsFile(rejects_path, header)

    def reject(line: int, reason: str, values: list[str]) -> None:
        summary.errors.append(RowError(str(path), line, reason))
        rejects_file.write(line, reason, values)

    try:
        rows = _event_rows(path, tz, reject) if kind == "events" else _daily_rows(path, reject)
    finally:
        wrote = rejects_file.close()
    summary.rejected = len(summary.errors)
    summary.rows_read = len(rows) + summary.rejected
    if wrote:
        summary.rejects_path = str(rejects_path)
    elif rejects_path.exists() and rejects is None:
        rejects_path.unlink()  # an earlier run's rejects no longer apply
    with sessions.begin() as session:
        batch = ImportBatch(filename=str(path), sha256=file_sha256(path), format=f"appeals-{kind}", source="appeals",
                            started_at=clock(), status="running")
        session.add(batch)
        session.flush()
        (_store_events if kind == "events" else _store_daily)(session, rows, batch.id, summary)
        batch.rows_read, batch.inserted, batch.updated = summary.rows_read, summary.inserted, summary.replaced
        batch.unchanged, batch.rejected, batch.rejects_path = summary.unchanged, summary.rejected, summary.rejects_path
        batch.status, batch.finished_at = "completed", clock()
        bump_revision(session, clock())
    return summary


def _store_daily(session: Session, rows: list[dict], import_id: int, summary: ExposureSummary) -> None:
    fields = ("impressions", "clicks", "dismissals", "readers")
    for i in range(0, len(rows), CHUNK):
        part = rows[i:i + CHUNK]
        keys = [(r["variant"], r["day"]) for r in part]
        stored = {
            (d.variant, d.day): d for d in session.scalars(
                select(AppealDaily).where(tuple_(AppealDaily.variant, AppealDaily.day).in_(keys))
            )
        }
        for r in part:
            old = stored.get((r["variant"], r["day"]))
            if old is None:
                session.add(AppealDaily(import_id=import_id, **r))
                summary.inserted += 1
            elif tuple(getattr(old, f) for f in fields) == tuple(r[f] for f in fields):
                summary.unchanged += 1
            else:
                for f in fields:
                    setattr(old, f, r[f])
                old.import_id = import_id
                summary.replaced += 1
        session.flush()


def _store_events(session: Session, rows: list[dict], import_id: int, summary: ExposureSummary) -> None:
    for i in range(0, len(rows), CHUNK):
        part = rows[i:i + CHUNK]
        keys = [(r["variant"], r["reader"], r["event"], r["at"].replace(tzinfo=None)) for r in part]
        seen = {
            (v, rd, e, at.replace(tzinfo=None)) for v, rd, e, at in session.execute(
                select(AppealEvent.variant, AppealEvent.reader, AppealEvent.event, AppealEvent.at)
                .where(AppealEvent.at >= min(r["at"] for r in part), AppealEvent.at <= max(r["at"] for r in part),
                       AppealEvent.variant.in_({r["variant"] for r in part}))
            )
        }
        new = [r for r, k in zip(part, keys) if k not in seen]
        summary.unchanged += len(part) - len(new)
        if new:
            session.execute(AppealEvent.__table__.insert(), [{**r, "import_id": import_id} for r in new])
        summary.inserted += len(new)


def clear(session: Session) -> None:
    """Remove all exposure data (the demo rebuilds it)."""
    session.execute(delete(AppealEvent))
    session.execute(delete(AppealDaily))

