"""Reports page: the history of progress reports and alerts (the same rows as `tracker reports list`).

`show` is the page's callback as a plain function."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import dash_mantine_components as dmc
from sqlalchemy.orm import Session

from tracker import queries

CONTENT = "reports-content"
TAB = "reports"

STATUS_COLOR = {"sent": "green", "written": "green", "skipped": "gray", "running": "blue", "failed": "orange",
                "gave_up": "red"}


def show(session: Session, slug: str, at: datetime) -> dmc.Stack | dmc.Alert:
    """The latest 50 runs of campaign `slug` started by `at`."""
    c = queries.get_campaign(session, slug)
    return content(queries.list_runs(session, 50, c, before=at), c.tz)


def content(rows: list, tz: ZoneInfo) -> dmc.Stack | dmc.Alert:
    """rows: (ReportRun, campaign slug) pairs from tracker.queries.list_runs, newest first."""
    if not rows:
        return dmc.Alert("No report or alert has been delivered for this campaign yet. Send one with "
                         "`tracker report --email ADDR`, or run `tracker schedule`.", color="blue", mt="md")
    body = []
    for run, _slug in rows:
        retry = f"; next attempt {run.next_attempt_at.astimezone(tz):%b %d %H:%M}" if run.next_attempt_at else ""
        body.append(dmc.TableTr([
            dmc.TableTd(f"{run.started_at.astimezone(tz):%a %b %d %H:%M}"),
            dmc.TableTd(run.job),
            dmc.TableTd(run.slot if run.kind == "alert" else
                        (f"{run.due_at.astimezone(tz):%b %d %H:%M}" if run.due_at else "by hand")),
            dmc.TableTd(dmc.Badge(run.status.replace("_", " "), color=STATUS_COLOR.get(run.status, "gray"),
                                  variant="light")),
            dmc.TableTd(str(run.attempts)),
            dmc.TableTd(run.recipients),
            dmc.TableTd(run.detail + retry),
        ], **{"data-testid": f"run-{run.job}-{run.status}"}))
    head = dmc.TableThead(dmc.TableTr([dmc.TableTh(h) for h in
                                       ("Started", "Job", "Slot", "Status", "Attempts", "To", "Detail")]))
    return dmc.Stack([
        dmc.Text(f"The {len(rows)} most recent reports and alerts, newest first (times in {tz.key}).", c="dimmed"),
        dmc.Table([head, dmc.TableTbody(body)], striped=True, highlightOnHover=True, fz="md"),
    ], mt="md")
