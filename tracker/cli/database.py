"""`tracker db upgrade|current`: the database schema (Alembic)."""

from __future__ import annotations

import click

from tracker import db
from tracker.cli.context import Context, pass_ctx


@click.group("db")
def db_group() -> None:
    """Manage the database schema.

    Example: tracker db upgrade
    """


@db_group.command("upgrade")
@pass_ctx
def db_upgrade(ctx: Context) -> None:
    """Create or migrate the database schema to the newest version.

    Example: tracker --db postgresql://tracker@localhost/tracker db upgrade
    """
    db.upgrade(ctx.engine)
    click.echo(f"database {db.safe_url(ctx.url)} is at schema revision {db.current_revision(ctx.engine)}")


@db_group.command("current")
@pass_ctx
def db_current(ctx: Context) -> None:
    """Show the database URL and its schema revision.

    Example: tracker db current
    """
    db.check_connection(ctx.engine)
    current = db.current_revision(ctx.engine) or "none (run: tracker db upgrade)"
    click.echo(f"database {db.safe_url(ctx.url)}\nschema revision {current} (newest: {db.head_revision()})")
