"""`tracker user add|list|remove`: the dashboard's logins."""

from __future__ import annotations

import sys

import click

from tracker import db, queries
from tracker.cli.context import Context, pass_ctx
from tracker.dates import utc_now
from tracker.errors import NotFound, UsageError
from tracker.models import ROLES


@click.group("user")
def user_group() -> None:
    """Manage the dashboard's logins (roles: viewer, finance, admin).

    Example: tracker user add maria --role finance
    """


@user_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True,
              help="viewer: aggregates only; finance: also donor-level downloads; admin: also manages users.")
@pass_ctx
def user_add(ctx: Context, name: str, role: str) -> None:
    """Add a login. The password is asked for twice, or read from the first line of standard input
    when that is not a terminal (for scripts). At least 10 characters.

    Example: tracker user add maria --role finance
    """
    from tracker import users

    users.check_name(name)
    password = _read_password(name)
    with db.transaction(ctx.sessions()) as session:
        users.add(session, name, role, password, now=utc_now())
    click.echo(f"added {name} ({role})")


def _read_password(name: str) -> str:
    """Asked for twice on a terminal, else the first line of standard input."""
    if sys.stdin.isatty():
        return click.prompt(f"password for {name}", hide_input=True, confirmation_prompt=True)
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise UsageError("no password on standard input (give it as the first line)")
    return password


@user_group.command("passwd")
@click.argument("name")
@pass_ctx
def user_passwd(ctx: Context, name: str) -> None:
    """Change a login's password (asked for twice, or the first line of standard input) and end every
    dashboard session it has open.

    Example: tracker user passwd maria
    """
    from tracker import users

    with db.transaction(ctx.sessions()) as session:
        if queries.get_user(session, name) is None:  # before asking for a password
            raise NotFound(f"no user {name!r}", field="user", kind="unknown")
    password = _read_password(name)
    with db.transaction(ctx.sessions()) as session:
        ended = users.set_password(session, name, password, now=utc_now())
    click.echo(f"changed the password of {name}; ended {ended} open session{'s' * (ended != 1)}")


@user_group.command("list")
@pass_ctx
def user_list(ctx: Context) -> None:
    """List the logins: name, role, when added.

    Example: tracker user list
    """
    with db.transaction(ctx.sessions()) as session:
        found = queries.list_users(session)
        if not found:
            click.echo("no users: the dashboard runs open, on loopback only (add one with: tracker user add NAME --role admin)")
            return
        for u in found:
            click.echo(f"{u.username:<30} {u.role:<8} added {u.created_at:%Y-%m-%d %H:%M}Z")


@user_group.command("remove")
@click.argument("name")
@pass_ctx
def user_remove(ctx: Context, name: str) -> None:
    """Remove a login and end its open dashboard sessions (adding the name again starts afresh).

    Example: tracker user remove maria
    """
    from tracker import users

    with db.transaction(ctx.sessions()) as session:
        users.remove(session, name)
    click.echo(f"removed {name}")
