"""Importing reference rates (`tracker rates import FILE`): a file in the layout of the ECB's eurofxref-hist.csv
(tracker.currency.parse_ecb_csv checks it whole before anything is written) into exchange_rates.

A day and currency already stored takes the file's rate (N/A included), so importing the same file again
changes nothing and a newer download of the ECB's file simply extends the table. The rates come on top of the
bundled table for every later import; gifts already stored keep the rate they were converted with until their
file is imported again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from tracker.currency import currencies, parse_ecb_csv
from tracker.errors import InputFileError
from tracker.models import ExchangeRate

BATCH = 2000  # rows per INSERT statement


@dataclass(frozen=True)
class RatesImported:
    days: int
    currencies: int
    rates: int  # values stored, N/A included
    first: date
    last: date


def read(path: Path) -> dict[date, dict[str, str | None]]:
    """The rates of a file (UTF-8 text), or InputFileError saying what is wrong and where."""
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file; download eurofxref-hist.csv from the ECB and name it") from None
    except OSError as exc:
        raise InputFileError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{path}: not UTF-8 text (byte {exc.start}); an ECB rates file is plain CSV, "
                             "unzip eurofxref-hist.zip first") from None
    return parse_ecb_csv(text, str(path))


def store(session: Session, table: dict[date, dict[str, str | None]], *, now: datetime) -> RatesImported:
    """Upsert the rates of a parsed file into exchange_rates (on SQLite and PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    t = ExchangeRate.__table__
    stmt = insert(t)
    stmt = stmt.on_conflict_do_update(index_elements=[t.c.day, t.c.currency],
                                      set_={"rate": stmt.excluded.rate, "imported_at": stmt.excluded.imported_at})
    values = [{"day": day, "currency": code, "rate": rate, "imported_at": now}
              for day, row in sorted(table.items()) for code, rate in row.items()]
    for i in range(0, len(values), BATCH):
        session.execute(stmt, values[i:i + BATCH])
    return RatesImported(days=len(table), currencies=len(currencies(table)), rates=len(values),
                         first=min(table), last=max(table))
