"""The public JSON endpoints the newsroom's website calls: live popup copy and campaign progress.

Public by design, so they carry aggregates only (no donor names or e-mails), may be cached for 60
seconds, and answer cross-origin requests from the configured origins. Errors are JSON with a 4xx
status and one line saying what to fix.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from flask import Flask, jsonify, request
from sqlalchemy.orm import Session, sessionmaker

from tracker import appeals, campaign as campaign_math, queries, service
from tracker.errors import TrackerError

CACHE_SECONDS = 60
# the keys of `tracker status --json` that the public progress endpoint repeats
PROGRESS_KEYS = ("campaign", "name", "currency", "as_of", "goal", "raised", "percent", "gap", "deadline", "phase",
                 "seconds_left", "time_left", "donors", "new_donors")


def register(server: Flask, sessions: sessionmaker[Session], moment: Callable[[], datetime],
             cors_origins: tuple[str, ...] = ()) -> None:
    """Add GET /api/progress and GET /api/appeal to the dashboard's Flask server."""

    def answer(payload: dict, status: int = 200):
        response = jsonify(payload)
        response.status_code = status
        response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}" if status == 200 else "no-store"
        origin = request.headers.get("Origin")
        if origin and ("*" in cors_origins or origin in cors_origins):
            response.headers["Access-Control-Allow-Origin"] = "*" if "*" in cors_origins else origin
            response.headers["Vary"] = "Origin"
        return response

    def campaign_status(session: Session):
        slug = request.args.get("campaign")
        if not slug:
            campaigns = queries.list_campaigns(session)
            chosen = campaign_math.default_campaign(campaigns, moment())
            if chosen is None:
                raise LookupError("there are no campaigns yet")
            slug = chosen.slug
        c = queries.get_campaign(session, slug)
        return c, service.campaign_status(session, c, as_of=moment())

    @server.get("/api/progress")
    def progress():
        try:
            with sessions.begin() as session:
                _, st = campaign_status(session)
        except (TrackerError, LookupError) as exc:
            return answer({"error": str(exc)}, 404)
        full = campaign_math.status_json(st)
        return answer({key: full[key] for key in PROGRESS_KEYS})

    @server.get("/api/appeal")
    def appeal():
        try:
            with sessions.begin() as session:
                c, st = campaign_status(session)
                variants = [v for v in queries.list_variants(session, c) if v.active]
                values = appeals.live_values(st)
                out = [
                    {"key": v.key, "control": v.is_control, "share": None if v.share_bp is None else v.share_bp / 10_000,
                     "version": max((x.version for x in v.versions), default=1),
                     "headline": appeals.render(v.headline, values), "body": appeals.render(v.body, values),
                     "button": appeals.render(v.button, values)}
                    for v in variants
                ]
        except (TrackerError, LookupError) as exc:
            return answer({"error": str(exc)}, 404)
        return answer({"campaign": st.slug, "as_of": campaign_math.status_json(st)["as_of"], "variants": out})
