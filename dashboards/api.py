"""The public JSON endpoints the newsroom's website calls: live popup copy and campaign progress.

Public by design, so they carry aggregates only (no donor names or e-mails), may be cached for 60
seconds, and answer cross-origin requests from the configured origins. Errors are JSON with a 4xx
status (404: no such campaign; 400: a request that cannot be answered) and one line saying what is
wrong, with the request parameter to change in `field`; an unknown campaign is "unknown campaign",
never the value asked for or the campaigns there are. No answer is larger than MAX_BYTES: a bigger
one (appeal copy grown huge) is a 500 with a one-line JSON error instead, and is never sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from flask import Flask, jsonify, request
from sqlalchemy.orm import Session, sessionmaker

from dashboards.cache import PageCache
from tracker import campaign as campaign_math, queries, service
from tracker.errors import NotFound, TrackerError

CACHE_SECONDS = 60
MAX_BYTES = 64 * 1024
# the keys of `tracker status --json` that the public progress endpoint repeats
PROGRESS_KEYS = ("campaign", "name", "currency", "as_of", "goal", "raised", "percent", "gap", "deadline", "phase",
                 "seconds_left", "time_left", "donors", "new_donors", "pledged", "goal_counts", "progress", "match_earned",
                 "match_received", "match_pending", "match_remaining", "raised_with_match")
# each match pool as the public sees it: no counts of gifts or donors
PUBLIC_MATCH_KEYS = ("name", "ratio", "cap", "per_donor_cap", "starts_at", "ends_at", "live", "earned", "received",
                     "pending", "remaining", "used_percent")


def register(server: Flask, sessions: sessionmaker[Session], moment: Callable[[], datetime],
             cors_origins: tuple[str, ...] = (), cache: PageCache | None = None) -> None:
    """Add GET /api/progress and GET /api/appeal to the dashboard's Flask server. With `cache`, the progress of a
    campaign at a moment (the clock to the minute) is worked out once per data revision: the website polls it, and
    every request in that minute shares the answer (a gift, an import or a pool's edit bumps the revision)."""

    def answer(payload: dict, status: int = 200):
        response = jsonify(payload)
        response.status_code = status
        if len(response.get_data()) > MAX_BYTES:
            response = jsonify({"error": f"the answer would be larger than {MAX_BYTES // 1024} KB, the most a public "
                                         "endpoint sends; shorten the appeal copy"})
            response.status_code = status = 500
        response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}" if status == 200 else "no-store"
        origin = request.headers.get("Origin")
        if origin and ("*" in cors_origins or origin in cors_origins):
            response.headers["Access-Control-Allow-Origin"] = "*" if "*" in cors_origins else origin
            response.headers["Vary"] = "Origin"
        return response

    def campaign(session: Session):
        slug = request.args.get("campaign")
        if slug:
            return queries.get_campaign(session, slug)
        chosen = campaign_math.default_campaign(queries.list_campaigns(session), moment())
        if chosen is None:
            raise NotFound("there are no campaigns yet", field="campaign", kind="none")
        return chosen

    def refused(exc: TrackerError):
        """404 for a campaign that is not there, 400 for a request that cannot be answered as asked;
        the message only, never the CLI's advice, and for an unknown campaign not even the slug asked
        for (the campaigns there are are not the public's business)."""
        message = "unknown campaign" if isinstance(exc, NotFound) and exc.kind == "unknown" else exc.message
        return answer({"error": message, **({"field": exc.field} if exc.field else {})},
                      404 if isinstance(exc, NotFound) else 400)

    @server.get("/api/progress")
    def progress():
        at = moment()

        def compute() -> dict:
            with sessions.begin() as session:
                st = service.campaign_status(session, campaign(session), as_of=at)
            full = campaign_math.status_json(st)
            return {**{key: full[key] for key in PROGRESS_KEYS},
                    "matches": [{key: m[key] for key in PUBLIC_MATCH_KEYS} for m in full["matches"]]}

        try:  # an error is never kept: the next request tries again
            payload = cache.get(("api/progress", request.args.get("campaign"), at), compute) if cache else compute()
        except TrackerError as exc:
            return refused(exc)
        return answer(payload)

    @server.get("/api/appeal")
    def appeal():
        try:
            with sessions.begin() as session:
                st, live = service.live_copy(session, campaign(session), as_of=moment())
                out = [
                    {"key": v.key, "control": v.is_control, "share": None if v.share_bp is None else v.share_bp / 10_000,
                     "version": max((x.version for x in v.versions), default=1),
                     "text": copy.alternative, "headline": copy.headline, "body": copy.body, "button": copy.button}
                    for v, copy in live
                ]
        except TrackerError as exc:
            return refused(exc)
        return answer({"campaign": st.slug, "as_of": campaign_math.status_json(st)["as_of"], "variants": out})
