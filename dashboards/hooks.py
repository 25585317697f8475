"""POST /hooks/stripe and POST /hooks/paypal: the processors' webhooks, received by the dashboard's server.

Public (no login, no CSRF token): each delivery is checked by its signature instead
(tracker.webhooks.verify), stored in the inbox, and answered at once; a worker applies it later
(tracker.webhooks.worker), and is woken here when a new event was stored.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime

from flask import Flask, Response, request
from sqlalchemy.orm import Session, sessionmaker

from tracker.config import Webhooks
from tracker.webhooks.receive import MAX_BODY, receive


def register(server: Flask, sessions: sessionmaker[Session], clock: Callable[[], datetime], settings: Webhooks,
             wake: threading.Event | None = None) -> None:
    """Add the webhook endpoints to `server`; `wake` is set whenever a new event is stored."""
    certificate = settings.paypal_cert.read_bytes() if settings.paypal_cert else None

    @server.post("/hooks/<provider>")
    def webhook(provider: str):
        if request.content_length is not None and request.content_length > MAX_BODY:
            body = b"x" * (MAX_BODY + 1)  # refused unread: the answer says why
        else:
            body = request.stream.read(MAX_BODY + 1)
        answer = receive(sessions, provider, body, request.headers, settings, now=clock(),
                         content_type=request.content_type, certificate=certificate)
        if answer.stored and wake is not None:
            wake.set()
        payload = {"ok": answer.status == 200, "message": answer.message}
        return Response(json.dumps(payload), status=answer.status, mimetype="application/json",
                        headers={"Cache-Control": "no-store"})
