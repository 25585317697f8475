"""Users page (admin only): the dashboard's logins, added and removed here or with `tracker user`.

The tab is shown to admins only, and every callback checks the role again on the server.
Passwords are sent once, over the same connection as the login, hashed at once, never shown.
`manage` is the page's callback as a plain function.
"""

from __future__ import annotations

from datetime import datetime

import dash_mantine_components as dmc
from dash import html
from sqlalchemy.orm import Session

from tracker import queries, users as users_lib
from tracker.errors import TrackerError, UsageError
from tracker.models import ROLES

TAB = "users"
LIST = "users-list"
NAME = "user-name"
ROLE = "user-role"
PASSWORD = "user-password"
ADD = "user-add"
MESSAGE = "user-message"
REMOVE = "user-remove"  # pattern-matching ids: {"type": REMOVE, "name": NAME}


def layout() -> html.Div:
    return html.Div([
        dmc.Group([
            dmc.TextInput(id=NAME, label="User name", size="md", w=240, autoComplete="off"),
            dmc.Select(id=ROLE, label="Role", data=list(ROLES), value="viewer", size="md", w=160, allowDeselect=False,
                       comboboxProps={"withinPortal": True}),
            dmc.PasswordInput(id=PASSWORD, label="Password (at least 10 characters)", size="md", w=280,
                              autoComplete="new-password"),
            dmc.Button("Add user", id=ADD, size="md"),
        ], align="flex-end", mt="md"),
        html.Div(id=MESSAGE, style={"marginTop": "8px"}),
        html.Div(id=LIST, style={"marginTop": "12px"}),
    ])


def listing(users: list, me: str | None) -> dmc.Table:
    rows = []
    for u in users:
        remove = dmc.Button("Remove", id={"type": REMOVE, "name": u.username}, color="red", variant="subtle",
                            size="compact-md", disabled=u.username == me)
        rows.append(dmc.TableTr([dmc.TableTd(u.username), dmc.TableTd(u.role),
                                 dmc.TableTd(f"{u.created_at:%Y-%m-%d %H:%M} UTC"), dmc.TableTd(remove)]))
    head = dmc.TableThead(dmc.TableTr([dmc.TableTh(h) for h in ("User", "Role", "Added", "")]))
    return dmc.Table([head, dmc.TableTbody(rows)], striped=True, fz="md", id="users-table")


def manage(session: Session, action: tuple | None, name: str | None, role: str | None, password: str | None, *,
           me: str | None, admin: bool, now: datetime) -> tuple:
    """Do what was asked and list the logins: (the list, a message, the password field's new value).

    `action`: ("add",) or ("remove", NAME), or None just to list; `admin`: whether the one asking is an
    admin (checked here, on the server, whatever the page showed)."""
    if not admin:
        return None, dmc.Alert("Only an admin may manage users.", color="red"), ""
    message = None
    try:  # every refusal comes before anything is written
        if action == ("add",):
            users_lib.add(session, name or "", role or "viewer", password or "", now=now)
            message = dmc.Alert(f"Added {name} ({role}).", color="green")
        elif action and action[0] == "remove":
            if action[1] == me:
                raise UsageError("you cannot remove yourself; ask another admin")
            users_lib.remove(session, action[1])
            session.flush()
            message = dmc.Alert(f"Removed {action[1]}.", color="green")
    except TrackerError as exc:
        message = dmc.Alert(str(exc), color="red")
    return listing(queries.list_users(session), me), message, ""
