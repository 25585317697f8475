"""Imports page: every import with what happened to its rows; rejects downloadable by finance and admin.

`show` is the page's callback as a plain function."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import dash_mantine_components as dmc
from dash import html
from sqlalchemy.orm import Session

from tracker import queries
from tracker.dates import zone
from tracker.ingest import import_state
from tracker.wording import count, verb

CONTENT = "imports-content"
TAB = "imports"


def show(session: Session, slug: str | None, can_download: bool) -> dmc.Stack | dmc.Alert:
    """The 50 latest imports, in the zone of campaign `slug` (else the campaigns' one zone, else UTC)."""
    batches = queries.list_imports(session, 50)
    zones = queries.campaign_timezones(session)
    tz = queries.get_campaign(session, slug).tz if slug else zone(zones.pop() if len(zones) == 1 else "UTC")
    return content(batches, tz, can_download, queries.undecided_duplicates(session)[0])


def content(batches: list, tz: ZoneInfo, can_download: bool, pairs: int = 0) -> dmc.Stack | dmc.Alert:
    """`batches`: ImportBatch rows from tracker.queries.list_imports, newest first; `pairs`: how many likely
    duplicate pairs await a decision (the money in them is on the Overview and in the reconciliation)."""
    enter = [html.A("Enter a gift by hand (a check, a grant, stock)", href="/gifts/new", id="enter-gift")] \
        if can_download else []
    if not batches:
        return dmc.Stack([*enter, dmc.Alert("Nothing has been imported yet. Import gifts with `tracker ingest "
                                            "donations FILE`.", color="blue")], mt="md")
    body = []
    for b in batches:
        rejects = str(b.rejected)
        if b.rejected and b.rejects_path and can_download:
            rejects = html.A(f"{b.rejected:,} (download)", href=f"/download/rejects/{b.id}", id=f"rejects-{b.id}")
        body.append(dmc.TableTr([
            dmc.TableTd(f"{b.started_at.astimezone(tz):%b %d %H:%M}"), dmc.TableTd(b.filename.rsplit("/", 1)[-1]),
            dmc.TableTd(b.format), dmc.TableTd(dmc.Badge(import_state(b), variant="light")),
            dmc.TableTd(f"{b.rows_read:,}"), dmc.TableTd(f"{b.inserted:,}"), dmc.TableTd(f"{b.updated:,}"),
            dmc.TableTd(f"{b.unchanged:,}"), dmc.TableTd(f"{b.recognized or 0:,}"), dmc.TableTd(rejects),
        ], id=f"import-{b.id}"))
    head = dmc.TableThead(dmc.TableTr([dmc.TableTh(h) for h in (
        "Started", "File", "Format", "Status", "Rows", "New", "Updated", "Unchanged", "Recognized", "Rejected")]))
    note = "" if can_download else " Rejected rows hold donors' details: finance and admin may download them."
    waiting = []
    if pairs:
        waiting = [dmc.Alert(f"{count(pairs, 'likely duplicate pair')} {verb(pairs, 'awaits', 'await')} a decision: the "
                             "same donor and amount minutes apart, from different sources. Both gifts count until "
                             "decided. Decide with: tracker "
                             "duplicates list, then tracker duplicates merge A B or tracker duplicates keep A B.",
                             color="yellow", id="duplicates-waiting")]
    return dmc.Stack([
        *waiting,
        *enter,
        dmc.Text(f"The {len(batches)} most recent imports, newest first (times in {tz.key}).{note}", c="dimmed"),
        html.Div(dmc.Table([head, dmc.TableTbody(body)], striped=True, highlightOnHover=True, fz="md",
                           id="imports-table"), className="table-scroll"),
    ], mt="md")
