"""The dashboard's form for a gift entered by hand (a check in the mail): GET/POST /gifts/new.

The same function as `tracker gift add` (tracker.ingest.manual): the same checks and messages, the
login's name kept as who entered it, an entry in the audit log. For the finance and admin roles only:
a viewer gets 403 from the server, whatever the page shows. A plain HTML form with the session's CSRF
token; everything typed is escaped when the form is shown again.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime

from flask import Flask, request
from sqlalchemy.orm import Session, sessionmaker

from dashboards import auth
from dashboards.security import escaped_html, plain
from tracker.errors import TrackerError
from tracker.finance import audit
from tracker.ingest import manual
from tracker.money import format_money
from tracker.organization import organization_currency, organization_zone

FORBIDDEN = "Entering gifts is for the finance and admin roles; ask an admin (tracker user add NAME --role finance)."
FIELDS = ("amount", "donated_at", "email", "name", "method", "reference", "channel", "note")
LABELS = {"amount": "Amount", "donated_at": "Date given (YYYY-MM-DD)", "email": "Donor's e-mail", "name": "Donor's name",
          "method": "Paid by", "reference": "Check number or reference", "channel": "Channel (e.g. mail)",
          "note": "Note"}


def _page(values: dict, message: str | None = None, done: str | None = None) -> str:
    e = html.escape
    field = "display:block;width:100%;font-size:18px;padding:6px;margin:4px 0 12px;box-sizing:border-box"
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
        'content="width=device-width,initial-scale=1"><title>Enter a gift: Campaign tracker</title></head>'
        '<body style="font-family:Arial,Helvetica,sans-serif;font-size:18px;background:#f5f6f8">'
        '<main style="max-width:480px;margin:6vh auto;background:#fff;padding:28px;border-radius:8px;'
        'box-shadow:0 1px 4px rgba(0,0,0,.15)"><h1 style="font-size:26px;margin:0 0 18px">Enter a gift by hand</h1>'
    ]
    if done:
        parts.append(f'<p role="status" id="gift-added" style="color:#1b5e20">{e(done)}</p>')
    if message:
        parts.append(f'<p role="alert" id="gift-error" style="color:#b00020">{e(message)}</p>')
    parts.append(f'<form method="post" action="/gifts/new"><input type="hidden" name="csrf" value="{e(auth.csrf_token())}">')
    for name in FIELDS:
        label = f'<label for="gift-{name}">{e(LABELS[name])}</label>'
        if name == "method":
            options = "".join(f'<option value="{m}"{" selected" if values.get("method", "check") == m else ""}>{m}</option>'
                              for m in manual.METHODS)
            parts.append(f'{label}<select id="gift-{name}" name="{name}" style="{field}">{options}</select>')
        else:
            kind = "email" if name == "email" else "text"
            need = " required" if name in ("amount", "donated_at", "email") else ""
            parts.append(f'{label}<input id="gift-{name}" name="{name}" type="{kind}" value="{e(values.get(name, ""))}"'
                         f' style="{field}"{need}>')
    parts.append('<button type="submit" id="gift-submit" style="font-size:18px;padding:8px 18px">Add the gift</button>'
                 ' <a href="/" style="margin-left:12px">Back to the dashboard</a></form></main></body></html>')
    return "".join(parts)


def register(server: Flask, sessions: sessionmaker[Session], clock: Callable[[], datetime]) -> None:
    @server.route("/gifts/new", methods=["GET", "POST"])
    def gift_new():
        if not auth.can_see_donors():
            return plain(FORBIDDEN, 403)
        if request.method == "GET":
            return escaped_html(_page({}))
        values = {k: request.form.get(k, "")[:2000] for k in FIELDS}
        if not auth._csrf_ok():
            return escaped_html(_page(values, "The form expired; please try again."), 400)
        actor = f"{auth.username() or 'the person at this computer'} (dashboard)"
        now = clock()
        try:
            with sessions.begin() as session:
                tz, currency = organization_zone(session), organization_currency(session)
                added = manual.add(session, amount=values["amount"], donated_at=values["donated_at"],
                                   email=values["email"], name=values["name"], method=values["method"] or "check",
                                   reference=values["reference"], channel=values["channel"], note=values["note"],
                                   currency=currency, timezone=tz, actor=actor, now=now)
                audit(session, actor=actor, action="gift add", rows=1, now=now,
                      detail=f"gift {added.gift_id} ({added.external_id}), "
                             f"{format_money(added.amount_cents, added.currency)}, {values['method'] or 'check'}")
        except TrackerError as exc:
            return escaped_html(_page(values, exc.message), 400)
        done = (f"Added gift {added.gift_id} ({added.external_id}): {format_money(added.amount_cents, added.currency)} "
                f"on {added.donated_at:%Y-%m-%d %H:%M} UTC." + "".join(" " + w for w in added.warnings))
        return escaped_html(_page({}, done=done))
