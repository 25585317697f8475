"""The `tracker` command line: the group, its commands by module, and the one place errors become words.

Each command parses its options, opens one database session, calls the library, and prints
(tracker.cli.context holds what they share). Command modules are imported only when their
command runs (click's lazy-group pattern), so `tracker status` does not pay for the dashboard,
the scheduler or the password hasher. Errors become one line on stderr and an exit status: 0
done, 1 failure, 2 usage error, 3 some input rows were rejected. No traceback reaches a user
(TRACKER_DEBUG=1 shows them).
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback

import click

from tracker import __version__
from tracker.errors import TrackerError

# command name -> "module:attribute" under tracker.cli, loaded when the command is used
COMMANDS = {
    "db": "database:db_group",
    "campaign": "campaigns:campaign_group",
    "ingest": "ingest:ingest_group",
    "imports": "ingest:imports_group",
    "status": "status:status_cmd",
    "backtest": "status:backtest_cmd",
    "appeals": "appeals:appeals_group",
    "export": "export:export_cmd",
    "audit": "export:audit_group",
    "report": "report:report_cmd",
    "reports": "report:reports_group",
    "schedule": "schedule:schedule_cmd",
    "user": "users:user_group",
    "display": "display:display_group",
    "serve": "serve:serve_cmd",
    "demo": "serve:demo_cmd",
    "webhooks": "webhooks:webhooks_group",
    "reconcile": "webhooks:reconcile_group",
    "duplicates": "duplicates:duplicates_group",
    "gift": "gifts:gift_group",
    "pledge": "pledges:pledge_group",
    "period": "period:period_group",
    "rates": "rates:rates_group",
    "match": "match:match_group",
}


class LazyGroup(click.Group):
    """A group whose commands live in other modules, imported when a command is looked up."""

    def __init__(self, *args, lazy: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy and name not in self.commands:
            module, _, attr = self.lazy[name].partition(":")
            self.add_command(getattr(importlib.import_module(f"tracker.cli.{module}"), attr), name)
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, lazy=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="tracker", message="%(prog)s %(version)s")
@click.option("--db", "db_url", metavar="URL",
              help="Database URL (else $TRACKER_DATABASE_URL, else the configuration's, else the default SQLite file).")
@click.option("--config", "config_path", metavar="FILE", type=click.Path(dir_okay=False),
              help="Configuration file: mail, scheduled reports, alerts (else $TRACKER_CONFIG, else ./tracker.toml).")
@click.pass_context
def cli(ctx: click.Context, db_url: str | None, config_path: str | None) -> None:
    """Track a year-end fundraising campaign: import gifts, see where it stands, show the dashboard.

    Example: tracker demo
    """
    from tracker.cli.context import Context

    ctx.obj = Context(db_url, config_path)


# How the CLI says what would fix an error about an input: (field, kind) -> words after the message.
ADVICE = {
    ("campaign", "unknown"): " (campaigns: {choices}); see: tracker campaign list",
    ("campaign", "none"): "; create one with: tracker campaign create --help",
    ("campaign", "missing"): "; choose one with --campaign SLUG",
    ("user", "unknown"): " (see: tracker user list)",
    ("user", "exists"): "; remove it first (tracker user remove {value})",
}
OPTIONS = {"from/to": "--from/--to"}  # fields that are an option's value: the message follows the option


def message(exc: TrackerError) -> str:
    """A TrackerError in the CLI's words: the message, with the option or command that fixes it."""
    text = str(exc)
    if exc.field in OPTIONS:
        return f"{OPTIONS[exc.field]}: {text}"
    advice = ADVICE.get((exc.field, exc.kind))
    if advice:
        text += advice.format(choices=", ".join(exc.choices) or "none yet", value=exc.choices[0] if exc.choices else "")
    return text


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return (and, as a console script, exit with) its status. Errors are one line."""
    code = run(argv)
    if argv is None:
        sys.exit(code)
    return code


def run(argv: list[str] | None) -> int:
    """Run the CLI with `argv`; the exit status. Every error is turned into one line on stderr here."""
    try:
        result = cli.main(args=argv, prog_name="tracker", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        return 0
    except click.UsageError as exc:
        hint = f" (see: {exc.ctx.command_path} --help)" if exc.ctx else ""
        click.echo(f"tracker: {exc.format_message()}{hint}", err=True)
        return 2
    except click.ClickException as exc:
        click.echo(f"tracker: {exc.format_message()}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("tracker: aborted", err=True)
        return 1
    except TrackerError as exc:
        click.echo(f"tracker: {message(exc)}", err=True)
        return exc.exit_code
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        click.echo("tracker: interrupted", err=True)
        return 130
    except Exception as exc:  # a database error, or a bug: one line; TRACKER_DEBUG=1 shows the traceback
        if os.environ.get("TRACKER_DEBUG"):
            traceback.print_exc()
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, SQLAlchemyError):
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            if reason and reason[0] == "database is locked":
                click.echo("tracker: the database is busy: another import or program is writing to it; run this "
                           "again when it has finished", err=True)
                return 1
            click.echo(f"tracker: database error: {reason[0] if reason else type(exc).__name__}", err=True)
            return 1
        click.echo(
            f"tracker: internal error ({type(exc).__name__}: {exc}); please report it, "
            "with TRACKER_DEBUG=1 to see the details",
            err=True,
        )
        return 1
