"""`tracker display add|list|remove`: links for unattended screens (the wall), viewer rights to the wall only."""

from __future__ import annotations

import click

from tracker import db
from tracker.cli.context import Context, os_user, pass_ctx
from tracker.dates import utc_now


@click.group("display")
def display_group() -> None:
    """Manage display links: a long random URL that shows the wall (/wall) on a screen with no login, viewer
    rights only, until it is removed. It survives restarts of the server.

    Example: tracker display add lobby --base-url https://tracker.example.org
    """


@display_group.command("add")
@click.argument("name")
@click.option("--base-url", default="http://127.0.0.1:8050", show_default=True,
              help="The dashboard's address as the screen reaches it; the link is this plus /display/TOKEN.")
@pass_ctx
def display_add(ctx: Context, name: str, base_url: str) -> None:
    """Make a display link and print it (once: only a hash of its token is kept). Open it on the screen;
    it shows the wall and keeps working until `tracker display remove NAME`.

    Example: tracker display add lobby --base-url https://tracker.example.org
    """
    from tracker import displays

    with db.transaction(ctx.sessions()) as session:
        token = displays.add(session, name, created_by=os_user(), now=utc_now())
    click.echo(f"{base_url.rstrip('/')}{displays.PATH}{token}")


@display_group.command("list")
@pass_ctx
def display_list(ctx: Context) -> None:
    """List the display links: name, who made them and when, last used, removed.

    Example: tracker display list
    """
    from tracker import displays

    with db.transaction(ctx.sessions()) as session:
        found = displays.list_links(session)
        if not found:
            click.echo("no display links (make one with: tracker display add NAME)")
            return
        for d in found:
            used = f"last used {d.last_used_at:%Y-%m-%d %H:%M}Z" if d.last_used_at else "never used"
            state = f"removed {d.revoked_at:%Y-%m-%d %H:%M}Z" if d.revoked_at else "live"
            click.echo(f"{d.name:<30} {state:<24} added {d.created_at:%Y-%m-%d %H:%M}Z by {d.created_by}; {used}")


@display_group.command("remove")
@click.argument("name")
@pass_ctx
def display_remove(ctx: Context, name: str) -> None:
    """Remove a display link: a screen showing it stops at its next refresh and says so.

    Example: tracker display remove lobby
    """
    from tracker import displays

    with db.transaction(ctx.sessions()) as session:
        displays.remove(session, name, now=utc_now())
    click.echo(f"removed display link {name}")
