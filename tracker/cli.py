"""The `tracker` command line.

Each command parses its options, opens one database session, calls the library, and prints.
Errors become one line on stderr and an exit status: 0 done, 1 failure, 2 usage error,
3 some input rows were rejected. No traceback reaches a user (TRACKER_DEBUG=1 shows them).
"""

from __future__ import annotations

import ipaddress
import json
import os
import sys
import traceback
from datetime import datetime
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from tracker import __version__, campaign as campaign_math, db, queries
from tracker.dates import isoformat_local, parse_as_of, parse_date, utc_now, zone
from tracker.errors import DatabaseError, TrackerError, UsageError, ValueProblem
from tracker.money import format_money, parse_cents

EXIT_REJECTED = 3
MAX_ERRORS_SHOWN = 10


class Context:
    """What every command shares: the configuration file and the database URL, resolved once."""

    def __init__(self, db_url: str | None, config_path: str | None = None):
        from tracker import config as config_file

        self.config = config_file.load(config_file.find(config_path))
        self.url = db.resolve_url(db_url or os.environ.get(db.ENV_URL) or self.config.database)
        self._engine = None

    @property
    def engine(self):
        if self._engine is None:
            self._engine = db.make_engine(self.url)
        return self._engine

    def sessions(self, *, need_schema: bool = True):
        """A session factory for the database, after checking its schema is current."""
        if need_schema:
            db.require_schema(self.engine)
        return db.session_factory(self.engine)


pass_ctx = click.make_pass_decorator(Context)


def _as_of(text: str | None, tz_name: str) -> datetime:
    """--as-of read in the campaign's zone (naive or date-only), else now."""
    if not text:
        return utc_now()
    try:
        return parse_as_of(text, zone(tz_name))
    except ValueProblem as exc:
        raise UsageError(f"--as-of: {exc}") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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
    ctx.obj = Context(db_url, config_path)


# -- db -------------------------------------------------------------------------------------

@cli.group("db")
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


# -- campaigns ------------------------------------------------------------------------------

@cli.group("campaign")
def campaign_group() -> None:
    """Create and list campaigns.

    Example: tracker campaign list
    """


@campaign_group.command("create")
@click.option("--slug", required=True, help="Short name used on the command line, e.g. dec-2026.")
@click.option("--name", required=True, help="Name shown to people, e.g. 'Year-end 2026'.")
@click.option("--goal", required=True, help="Goal in the campaign's currency, e.g. 400000 or 400,000.00.")
@click.option("--currency", default="USD", show_default=True, help="ISO currency code.")
@click.option("--start", required=True, help="First day, YYYY-MM-DD.")
@click.option("--end", required=True, help="Last day, YYYY-MM-DD (the deadline is 23:59:59 that day).")
@click.option("--timezone", "tz_name", required=True, help="IANA time zone of the campaign, e.g. America/Los_Angeles.")
@click.option("--goal-new-donors", type=click.IntRange(min=1), help="Also a goal in new donors (never gave before).")
@click.option("--goal-donors", type=click.IntRange(min=1), help="Also a goal in donors, new or returning.")
@click.option("--fiscal-year-start", type=click.IntRange(1, 12), default=1, show_default=True,
              help="First month of the fiscal year (for December's share of the year).")
@click.option("--raised", "raised_basis", type=click.Choice(["gross", "net_of_fees"]), default="gross", show_default=True,
              help="What 'raised' means: amount minus refunds, or also minus processing fees.")
@pass_ctx
def campaign_create(ctx: Context, slug, name, goal, currency, start, end, tz_name, goal_new_donors, goal_donors,
                    fiscal_year_start, raised_basis) -> None:
    """Create a campaign: a goal over whole days in the campaign's own time zone.

    The window is [start 00:00, the day after end 00:00) local time.

    Example: tracker campaign create --slug dec-2026 --name "Year-end 2026" --goal 400000
    --currency USD --start 2026-12-01 --end 2026-12-31 --timezone America/Los_Angeles
    """
    from tracker.manage import create_campaign

    try:
        goal_cents = parse_cents(goal)
        start_d, end_d = parse_date(start), parse_date(end)
    except ValueProblem as exc:
        raise UsageError(str(exc)) from None
    with db.transaction(ctx.sessions()) as session:
        c = create_campaign(
            session, slug=slug, name=name, goal_cents=goal_cents, currency=currency.upper(),
            timezone=tz_name, start=start_d, end=end_d, now=utc_now(), goal_new_donors=goal_new_donors,
            goal_donors=goal_donors, fiscal_year_start_month=fiscal_year_start, raised_basis=raised_basis,
        )
        click.echo(
            f"created campaign {c.slug}: {c.name}, goal {format_money(c.goal_cents, c.currency)}, "
            f"{c.start_date} to {c.end_date} ({c.timezone}), deadline {isoformat_local(c.ends_at, c.tz)} exclusive"
        )


@campaign_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_ctx
def campaign_list(ctx: Context, as_json: bool) -> None:
    """List campaigns, newest first.

    Example: tracker campaign list --json
    """
    from tracker.money import cents_to_decimal_str

    with db.transaction(ctx.sessions()) as session:
        rows = queries.list_campaigns(session)
        if as_json:
            click.echo(json.dumps([
                {"slug": c.slug, "name": c.name, "goal": cents_to_decimal_str(c.goal_cents), "currency": c.currency,
                 "start": c.start_date.isoformat(), "end": c.end_date.isoformat(), "timezone": c.timezone}
                for c in rows
            ], indent=2))
            return
        if not rows:
            click.echo("no campaigns yet; create one with: tracker campaign create --help")
            return
        click.echo(f"{'SLUG':<16} {'NAME':<24} {'GOAL':>14} {'START':<10}  {'END':<10}  TIME ZONE")
        for c in rows:
            click.echo(
                f"{c.slug:<16} {c.name[:24]:<24} {format_money(c.goal_cents, c.currency):>14} "
                f"{c.start_date}  {c.end_date}  {c.timezone}"
            )


# -- ingest ---------------------------------------------------------------------------------

@cli.group("ingest")
def ingest_group() -> None:
    """Import data files.

    Example: tracker ingest donations data/samples/donations.csv
    """


@ingest_group.command("donations")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["generic", "stripe", "paypal", "mapping", "jsonl"]),
              help="The file's layout (default: recognized from the header, and printed).")
@click.option("--mapping", metavar="FILE|NAME", help="TOML mapping for any other CSV layout (or a shipped one: "
              "actblue, civicrm, opencollective, npsp).")
@click.option("--source", help="Where the gifts come from (default: the format's name); ids are unique per source.")
@click.option("--timezone", "tz_name", help="Zone for times without an offset (default: the campaigns' zone).")
@click.option("--dayfirst", is_flag=True, help="Dates like 05/12/2026 are day first (5 December).")
@click.option("--currency", default="USD", show_default=True, help="The organization's currency.")
@click.option("--max-gift", default="10,000,000", show_default=True, help="Reject any single gift above this amount.")
@click.option("--strict", is_flag=True, help="Load nothing when any row is bad.")
@click.option("--rejects", "rejects", type=click.Path(path_type=Path),
              help="Where to write rejected rows (default: beside the input, NAME.rejects.csv).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--chunk-rows", default=200_000, show_default=True, type=click.IntRange(100, 1_000_000),
              help="Gifts per committed chunk (read and written 50,000 at a time).")
@click.option("--first-load", type=click.Choice(["auto", "yes", "no"]), default="auto", show_default=True,
              help="Into a database with no gift yet: load in one transaction and build the secondary indexes once "
                   "at the end (auto: for a file of 16 MB or more).")
@pass_ctx
def ingest_donations(ctx: Context, file: Path, fmt, mapping, source, tz_name, dayfirst, currency, max_gift,
                     strict, rejects, quiet, chunk_rows, first_load) -> None:
    """Import gifts from a file: the tracker's CSV, Stripe or PayPal exports, JSON Lines, or any CSV with a mapping.

    A gift is identified by (source, id): importing the same or an overlapping file again
    changes nothing, and a later file in which a gift was refunded or disputed updates it (a
    gift's status only moves forward). The import commits in chunks, so it can be stopped at any
    moment and run again. A first load (a large file into a database with no gift yet) commits
    once at the end instead: killed, it leaves the database as it was. Bad rows are printed as
    FILE:LINE: reason and written, with their original values, to the rejects file; the good
    rows load (unless --strict).

    Exit status: 0 every row accounted for, 3 some rows rejected, 2 usage error, 1 failure.

    Example: tracker ingest donations data/samples/stripe_unified_payments.csv
    """
    from tracker.ingest import ImportRequest, RowRules, run_import

    try:
        max_cents = parse_cents(max_gift)
    except ValueProblem as exc:
        raise UsageError(f"--max-gift: {exc}") from None
    factory = ctx.sessions()
    with db.transaction(factory) as session:
        tz = zone(tz_name) if tz_name else _organization_zone(session)
    rules = RowRules(source="", timezone=tz, currency=currency.upper(), max_gift_cents=max_cents, dayfirst=dayfirst)
    request = ImportRequest(path=file, format=fmt, mapping=mapping, source=source, strict=strict, rejects=rejects,
                            chunk_rows=chunk_rows, first_load=first_load)
    show = not quiet and sys.stderr.isatty()
    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(unit=" rows", unit_scale=True, file=sys.stderr, desc=str(file.name), leave=False)

    def progress(rows: int) -> None:
        if bar is not None:
            bar.update(rows - bar.n)

    try:
        summary = run_import(factory, request, rules, clock=utc_now, progress=progress)
    finally:
        if bar is not None:
            bar.close()
    if not fmt and not mapping:
        click.echo(f"{file}: recognized as {summary.format} (source {summary.source!r})")
    for err in summary.errors[:MAX_ERRORS_SHOWN]:
        click.echo(str(err), err=True)
    if summary.rejected > MAX_ERRORS_SHOWN:
        click.echo(f"... and {summary.rejected - MAX_ERRORS_SHOWN} more rejected rows", err=True)
    if summary.strict_failed:
        click.echo(
            f"{file}: --strict: {summary.rejected} of {summary.rows_read} rows are bad, so nothing was loaded; "
            f"rejected rows are in {summary.rejects_path}"
        )
        raise SystemExit(EXIT_REJECTED)
    click.echo(_import_line(file, summary))
    if summary.first_load:
        click.echo("  first load: one transaction, the indexes built once at the end")
    if summary.skipped:
        kinds = ", ".join(f"{n} {kind}" for kind, n in summary.skip_kinds.most_common(5))
        click.echo(f"  skipped on purpose: {kinds}")
    if summary.superseded:
        click.echo(f"  {summary.superseded} rows repeated an earlier row's id with other content; the later row was kept")
    if summary.refunds_waiting:
        click.echo(f"  {summary.refunds_waiting} refunds wait for their payment to be imported")
    if summary.rejects_path:
        click.echo(f"  rejected rows with their reasons: {summary.rejects_path}")
    if summary.rejected:
        raise SystemExit(EXIT_REJECTED)


def _import_line(file, s) -> str:
    return (
        f"{file}: {s.rows_read:,} rows read: {s.inserted:,} new, {s.updated:,} updated, {s.unchanged:,} unchanged, "
        f"{s.skipped:,} skipped, {s.rejected:,} rejected (import #{s.import_id})"
    )


@cli.group("imports")
def imports_group() -> None:
    """See what was imported.

    Example: tracker imports list
    """


@imports_group.command("list")
@click.option("--limit", default=20, show_default=True, help="How many imports to show, newest first.")
@pass_ctx
def imports_list(ctx: Context, limit: int) -> None:
    """List imports, newest first: file, format, status and what happened to the rows.

    An import still "running" long after it started was stopped before it finished; run it
    again to complete it.

    Example: tracker imports list --limit 5
    """
    with db.transaction(ctx.sessions()) as session:
        rows = queries.list_imports(session, limit)
        if not rows:
            click.echo("no imports yet; import gifts with: tracker ingest donations FILE")
            return
        click.echo(f"{'#':>4}  {'STARTED (UTC)':<19}  {'FORMAT':<8} {'SOURCE':<14} {'STATUS':<15} "
                   f"{'READ':>8} {'NEW':>8} {'UPDATED':>8} {'SAME':>8} {'SKIPPED':>8} {'REJECTED':>8}  FILE  SHA-256")
        for b in rows:
            click.echo(
                f"{b.id:>4}  {b.started_at:%Y-%m-%d %H:%M:%S}  {b.format:<8} {b.source[:14]:<14} {b.status:<15} "
                f"{b.rows_read:>8,} {b.inserted:>8,} {b.updated:>8,} {b.unchanged:>8,} {b.skipped:>8,} "
                f"{b.rejected:>8,}  {b.filename}  {b.sha256[:12]}"
            )


def _organization_zone(session):
    """The zone naive times are read in: $TRACKER_TIMEZONE, else the campaigns' zone when they share one."""
    env = os.environ.get("TRACKER_TIMEZONE")
    if env:
        return zone(env)
    zones = queries.campaign_timezones(session)
    if len(zones) == 1:
        return zone(zones.pop())
    return None  # naive times are then rejected row by row, saying to pass --timezone


# -- status ---------------------------------------------------------------------------------

@cli.command("status")
@click.option("--campaign", "slug", help="Campaign slug (may be left out when there is only one).")
@click.option("--as-of", "as_of", help="See the campaign as it stood at this moment (ISO 8601; naive = campaign's zone).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (money as decimal strings).")
@pass_ctx
def status_cmd(ctx: Context, slug: str | None, as_of: str | None, as_json: bool) -> None:
    """Show where a campaign stands: raised, gap, time left, pace, earlier years, projection, donors.

    "Raised" is the amount minus refunds of gifts with status succeeded, partially_refunded or
    refunded, donated inside the window and at or before --as-of (also minus processing fees for
    a campaign created with --raised net_of_fees). The JSON keys are described in the README.

    Example: tracker status --campaign dec-2026 --as-of 2026-12-20T12:00 --json
    """
    from tracker.service import campaign_status

    with db.transaction(ctx.sessions()) as session:
        c = queries.get_campaign(session, slug)
        st = campaign_status(session, c, as_of=_as_of(as_of, c.timezone))
    if as_json:
        click.echo(json.dumps(campaign_math.status_json(st), indent=2))
        return
    click.echo(_status_text(st))


def _status_text(st: campaign_math.Status) -> str:
    tz, cur = st.tz, st.currency

    def money(cents: int | None) -> str:
        return "-" if cents is None else format_money(cents, cur)

    local = st.as_of.astimezone(tz)
    pace = st.pace_needed
    needed = "the campaign is closed" if pace is None else f"{money(pace[0])} per {pace[1]} to reach the goal"
    basis = "gross of fees, net of refunds" if st.raised_basis == "gross" else "net of fees and refunds"
    lines = [
        f"{st.name} ({st.slug}) as of {local:%Y-%m-%d %H:%M %Z}: {st.phase.replace('_', ' ')}",
        f"  Raised     {money(st.raised_cents)} of {money(st.goal_cents)} ({st.percent}%), {basis}",
        f"  Gap        {money(st.gap_cents)}",
        f"  Gifts      {st.donations:,} from {st.donors:,} donors ({st.new_donors:,} new, {st.returning_donors:,} returning)",
        f"  Deadline   {st.deadline.astimezone(tz):%Y-%m-%d %H:%M:%S %Z} ({campaign_math.time_left_text(st.seconds_left)}"
        f"{'' if st.seconds_left <= 0 else ' left'})",
        f"  Needed     {needed}",
        f"  Pace       {money(st.last_24_hours_cents)} in the last 24 hours, {money(st.last_7_days_cents)} in the last 7 days",
    ]
    if st.typical_position:
        lines.append(f"  Typical    {st.typical_position} the typical curve (goal's curve is at {money(st.typical_cents_by_now)} by now)")
    for g in st.goals:
        lines.append(f"  Goal       {g.count:,} of {g.goal:,} {g.name.replace('_', ' ')} ({g.percent}%)"
                     + ("" if g.needed_per_day is None else f", {g.needed_per_day:,} a day needed"))
    p = st.projection
    if p and p.expected_cents is not None:
        lines.append(f"  Projected  {money(p.expected_cents)} (80% range {money(p.low_cents)} to {money(p.high_cents)}), "
                     f"chance of reaching the goal {p.chance_of_goal:.0%}, {p.basis}")
    elif p:
        lines.append(f"  Projected  not yet: {p.basis}")
    for c in st.comparisons:
        share = "" if c.share_of_final is None else f", {c.share_of_final:.1%} of its final {money(c.final_cents)}"
        lines.append(f"  {c.slug:<10} {money(c.cents_then)} at this point{share}")
    seg = st.segments
    lines.append(
        f"  Donors     new {seg.new.donors:,} ({money(seg.new.cents)}), retained {seg.retained.donors:,} "
        f"({money(seg.retained.cents)}), reactivated {seg.reactivated.donors:,} ({money(seg.reactivated.cents)})"
    )
    if seg.lybunt_campaign:
        lines.append(f"  LYBUNT     {seg.lybunt.donors:,} donors of {seg.lybunt_campaign} not back yet "
                     f"({money(seg.lybunt.cents)} last time)")
    lines.append(f"  Recurring  {seg.recurring.donors:,} gifts ({money(seg.recurring.cents)}); one-time "
                 f"{seg.one_time.donors:,} ({money(seg.one_time.cents)})")
    if st.fiscal and st.fiscal.share is not None:
        earlier = ", ".join(f"{slug} {share:.1%}" for slug, share in st.fiscal.earlier if share is not None)
        lines.append(f"  Year       {st.fiscal.share:.1%} of fiscal year {st.fiscal.year_starts} to {st.fiscal.year_ends}"
                     + (f" (earlier: {earlier})" if earlier else ""))
    if st.phase == "closed":
        lines.append(f"  Late       {money(st.late_cents)} in {st.late_gifts:,} gifts imported after the deadline")
    return "\n".join(lines)


@cli.command("backtest")
@click.option("--campaign", "slug", help="Replay the campaigns before this one (may be left out when there is only one).")
@click.option("--as-of", "as_of", help="Use only campaigns closed by this moment (ISO 8601).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def backtest_cmd(ctx: Context, slug: str | None, as_of: str | None, as_json: bool) -> None:
    """Show how good the projections have been: replay each earlier campaign day by day.

    At the end of each day of each earlier campaign, project its final from only what was known
    then (its own gifts so far and the campaigns before it), and compare with its real final:
    the mean absolute percentage error by campaign day, and how often the 80% range held the final.

    Example: tracker backtest --campaign dec-2026
    """
    from tracker.service import campaign_backtest

    with db.transaction(ctx.sessions()) as session:
        c = queries.get_campaign(session, slug)
        result = campaign_backtest(session, c, as_of=_as_of(as_of, c.timezone))
    error20, held20 = result.summary_from(20)
    if as_json:
        click.echo(json.dumps({
            "campaign": c.slug, "replayed": list(result.replayed), "range_level": 0.8,
            "days": [{"day": d.day, "campaigns": d.campaigns, "mean_abs_pct_error": round(d.mean_abs_pct_error, 2),
                      "range_held": d.contained} for d in result.days],
            "from_day_20": {"mean_abs_pct_error": None if error20 is None else round(error20, 2),
                            "range_held_share": None if held20 is None else round(held20, 4)},
        }, indent=2))
        return
    if not result.replayed:
        click.echo(f"no earlier campaign in {c.currency} before {c.slug}: nothing to replay")
        return
    click.echo(f"Replayed {', '.join(result.replayed)} (projection at the end of each day vs. the real final)")
    click.echo("  day  error  range held")
    for d in result.days:
        click.echo(f"  {d.day:>3}  {d.mean_abs_pct_error:5.1f}%  {d.contained}/{d.campaigns}")
    if error20 is not None:
        click.echo(f"From day 20 on: mean error {error20:.1f}%, the 80% range held the final {held20:.0%} of the time")


# -- serve / demo ---------------------------------------------------------------------------

def _is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_bind(host: str, user_count: int) -> None:
    if not _is_loopback(host) and user_count == 0:
        raise UsageError(
            f"refusing to serve on {host} without users: the dashboard shows donor data; add a login first "
            "(tracker user add NAME --role admin), or use --host 127.0.0.1"
        )


def _serve(ctx: Context, host: str, port: int, as_of: str | None, threads: int, refresh_seconds: int = 60) -> None:
    from waitress.server import create_server

    from dashboards.app import create_app

    with db.transaction(ctx.sessions()) as session:
        zones = queries.campaign_timezones(session)
        users = queries.user_count(session)
    _check_bind(host, users)
    fixed = _as_of(as_of, zones.pop() if len(zones) == 1 else "UTC") if as_of else None
    origins = tuple(o.strip() for o in os.environ.get("TRACKER_CORS_ORIGINS", "").split(",") if o.strip())
    loopback = _is_loopback(host)
    app = create_app(ctx.sessions(), as_of=fixed, cors_origins=origins, require_login=None if loopback else True,
                     refresh_seconds=refresh_seconds)
    try:
        server = create_server(app.server, host=host, port=port, threads=threads)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}; choose another --port") from None
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"dashboard at http://{shown}:{server.effective_port}/  (Ctrl-C stops it)")
    if users == 0:
        click.echo("no users are set up: the dashboard is open to anyone on this computer "
                   "(tracker user add NAME --role admin turns login on)")
    elif not os.environ.get("TRACKER_SECRET_KEY"):
        click.echo("TRACKER_SECRET_KEY is not set: logins end when the dashboard restarts")
    if fixed:
        click.echo(f"showing the campaigns as of {fixed.isoformat()}")
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        click.echo("dashboard stopped")


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8050, show_default=True, type=int, help="Port to listen on.")
@click.option("--as-of", "as_of", help="Show the campaigns as they stood at this moment instead of now.")
@click.option("--threads", default=8, show_default=True, type=int, help="Worker threads of the WSGI server.")
@click.option("--refresh", "refresh_seconds", default=60, show_default=True, type=click.IntRange(5, 3600),
              help="Seconds between the pages' automatic refreshes (each page can pause them).")
@pass_ctx
def serve_cmd(ctx: Context, host: str, port: int, as_of: str | None, threads: int, refresh_seconds: int) -> None:
    """Serve the staff dashboard with a production WSGI server (waitress).

    Example: tracker serve --port 8050 --refresh 30
    """
    _serve(ctx, host, port, as_of, threads, refresh_seconds)


@cli.command("demo")
@click.option("--as-of", "as_of", help="Build the current campaign up to this moment instead of now.")
@click.option("--no-serve", is_flag=True, help="Only build the demo database; do not serve the dashboard.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8050, show_default=True, type=int, help="Port to listen on.")
@pass_ctx
def demo_cmd(ctx: Context, as_of: str | None, no_serve: bool, host: str, port: int) -> None:
    """Build the demo newsroom (three earlier Decembers and the current one) and serve the dashboard.

    The data is the same every time for the same --as-of. Running it again rebuilds the demo;
    it refuses to touch a database that holds campaigns of your own.

    Example: tracker demo --as-of 2026-12-28T12:00 --no-serve
    """
    from tracker import demo

    db.upgrade(ctx.engine)
    moment = _as_of(as_of, demo.TIMEZONE)
    with db.transaction(ctx.sessions()) as session:
        built = demo.build(session, now=moment)
    click.echo(
        f"demo built in {db.safe_url(ctx.url)}: {built.campaigns} campaigns, {built.donations:,} gifts "
        f"from {built.donors:,} donors, as of {isoformat_local(moment, zone(demo.TIMEZONE))}"
    )
    if built.hint:
        click.echo(built.hint)
    if not no_serve:
        _serve(ctx, host, port, as_of, threads=8)


# -- entry point ----------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return (and, as a console script, exit with) its status. Errors are one line."""
    code = run(argv)
    if argv is None:
        sys.exit(code)
    return code


def run(argv: list[str] | None) -> int:
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
        click.echo(f"tracker: {exc}", err=True)
        return exc.exit_code
    except SQLAlchemyError as exc:
        if os.environ.get("TRACKER_DEBUG"):
            traceback.print_exc()
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        click.echo(f"tracker: {DatabaseError('database error: ' + (reason[0] if reason else type(exc).__name__))}", err=True)
        return 1
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        click.echo("tracker: interrupted", err=True)
        return 130
    except Exception as exc:  # a bug: say so in one line; TRACKER_DEBUG=1 shows the traceback
        if os.environ.get("TRACKER_DEBUG"):
            traceback.print_exc()
        click.echo(
            f"tracker: internal error ({type(exc).__name__}: {exc}); please report it, "
            "with TRACKER_DEBUG=1 to see the details",
            err=True,
        )
        return 1


from tracker import cli_appeals  # noqa: E402,F401  registers `tracker appeals ...` and `tracker ingest appeals`
from tracker import cli_export  # noqa: E402,F401  registers `tracker export ...` and `tracker audit list`
from tracker import cli_schedule  # noqa: E402,F401  registers `tracker schedule` and `tracker reports list`
from tracker import cli_users  # noqa: E402,F401  registers `tracker user add|list|remove`
