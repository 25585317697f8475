"""The dashboard's downloads: the finance exports (the same code as `tracker export`) and import rejects.

GET /download/export/KIND?campaign=SLUG&from=DATE&to=DATE&format=csv|xlsx&excel=1&personal=1&as_of=ISO
GET /download/rejects/IMPORT_ID

Without campaign, from and to take any local days in the organization's zone (finance.RANGE_KINDS).
excel=1 starts a CSV with a byte-order mark, the same bytes as `tracker export --excel`, so that Excel
reads accented names as UTF-8.

Donor-level files (donations, donors, lybunt, rejects) are for the finance and admin roles only;
a viewer gets 403 whatever the URL says. Files with names and e-mails are recorded in the audit
log under the login's name, committed before the file is made. Nothing is cached by the browser or a proxy. Every refusal is plain text
(security.plain), so a campaign or kind typed into the URL can never run as a page.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from flask import Flask, Response, request
from sqlalchemy.orm import Session, sessionmaker

from dashboards import auth
from dashboards.security import plain
from tracker import finance, queries
from tracker.organization import organization_currency, organization_zone
from tracker.dates import parse_as_of
from tracker.errors import TrackerError, ValueProblem
from tracker.models import ImportBatch

FORBIDDEN = "Donor-level files are for the finance and admin roles; ask an admin (tracker user add NAME --role finance)."


def export_url(slug: str | None, kind: str, *, first: str | None, last: str | None, fmt: str = "csv",
               personal: bool = False, as_of: str | None = None, excel: bool = False) -> str:
    from urllib.parse import urlencode

    params = {"campaign": slug, "from": first, "to": last, "format": fmt, "excel": "1" if excel else None,
              "personal": "1" if personal else None, "as_of": as_of}
    return f"/download/export/{kind}?" + urlencode({k: v for k, v in params.items() if v})


def register(server: Flask, sessions: sessionmaker[Session], moment: Callable[[], datetime], pinned: bool,
             clock: Callable[[], datetime]) -> None:
    @server.get("/download/export/<kind>")
    def download_export(kind: str):
        personal = request.args.get("personal") == "1"
        if kind not in finance.KINDS:
            return plain(f"Unknown export {kind!r}; the kinds are {', '.join(finance.KINDS)}.", 404)
        if (kind in finance.DONOR_LEVEL_KINDS or personal) and not auth.can_see_donors():
            return plain(FORBIDDEN, 403)
        fmt = request.args.get("format", "csv")
        if fmt not in ("csv", "xlsx"):
            return plain("format must be csv or xlsx", 400)
        excel = request.args.get("excel") == "1"
        first, last, slug = request.args.get("from"), request.args.get("to"), request.args.get("campaign")
        try:
            with sessions.begin() as session:
                if not slug and first and last and kind in finance.RANGE_KINDS:
                    c = finance.period(session, first, last, tz=organization_zone(session),
                                       currency=organization_currency(session))
                else:
                    c = queries.get_campaign(session, slug)
                at = moment()
                if request.args.get("as_of") and not pinned:
                    at = min(at, parse_as_of(request.args["as_of"], c.tz))
                w = finance.window(c, first, last, at)
                name = f"{c.slug}-{kind}-{w.first}-to-{w.last}" + ("-personal" if personal else "")
                actor = auth.username() or "dashboard (open on loopback)"
                if fmt == "xlsx":
                    from tracker.export import XlsxSheet

                    sheet = XlsxSheet(f"{c.slug} {kind}")
                    finance.write(session, c, kind, sheet, w, at, personal=personal, actor=actor,
                                  destination=f"dashboard download {name}.xlsx", now=clock(),
                                  record=finance.record_apart(sessions))
                    body = io.BytesIO()
                    sheet.save(body)
                    data, mimetype = body.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                else:
                    text = io.StringIO(newline="")
                    finance.write(session, c, kind, text, w, at, personal=personal, excel=excel, actor=actor,
                                  destination=f"dashboard download {name}.csv", now=clock(),
                                  record=finance.record_apart(sessions))
                    data, mimetype = text.getvalue().encode("utf-8"), "text/csv; charset=utf-8"
        except (TrackerError, ValueProblem) as exc:
            return plain(str(exc), 400)
        return Response(data, mimetype=mimetype, headers={
            "Content-Disposition": f'attachment; filename="{name}.{fmt}"', "Cache-Control": "no-store"})

    @server.get("/download/rejects/<int:import_id>")
    def download_rejects(import_id: int):
        if not auth.can_see_donors():  # rejected rows are raw input: names, e-mails
            return plain(FORBIDDEN, 403)
        with sessions.begin() as session:
            batch = session.get(ImportBatch, import_id)
            path = Path(batch.rejects_path) if batch is not None and batch.rejects_path else None
            if path is None:
                return plain("This import kept no rejects file.", 404)
            try:
                data = path.read_bytes()
            except OSError:
                return plain(f"The rejects file {path.name} is no longer on this server.", 404)
            finance.audit(session, actor=auth.username() or "dashboard (open on loopback)",
                          action="download import rejects", detail=f"import {import_id}: {path}",
                          rows=max(0, data.count(b"\n") - 1), now=clock())
        return Response(data, mimetype="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{path.name}"', "Cache-Control": "no-store"})
