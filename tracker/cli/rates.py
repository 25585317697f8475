"""`tracker rates import`: reference rates for gifts in other currencies, on top of the bundled ECB table."""

from __future__ import annotations

from pathlib import Path

import click

from tracker import db
from tracker.cli.context import Context, pass_ctx
from tracker.dates import utc_now


@click.group("rates")
def rates_group() -> None:
    """Exchange rates for gifts in other currencies than the organization's. The ECB's reference rates to
    2026-10-30 ship with the tracker; import newer ones from the ECB's eurofxref-hist.csv.

    Example: tracker rates import eurofxref-hist.csv
    """


@rates_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_ctx
def rates_import(ctx: Context, file: Path) -> None:
    """Import reference rates from a file in the ECB's eurofxref-hist.csv layout: a Date column (YYYY-MM-DD),
    then one column per currency in units per EUR, N/A for none. The file is checked whole before a rate is
    stored; a day already stored takes the file's rates, so importing it again changes nothing. Imports after
    this one use them; gifts already stored keep their rate until their file is imported again.

    Example: tracker rates import eurofxref-hist.csv
    """
    from tracker.currency import bundled_through
    from tracker.ingest import rates

    table = rates.read(file)
    with db.transaction(ctx.sessions()) as session:
        done = rates.store(session, table, now=utc_now())
    click.echo(f"imported {done.rates:,} rates of {done.currencies} currencies on {done.days:,} days, "
               f"{done.first} to {done.last} (the bundled ECB table ends on {bundled_through()})")
