"""Users page (admin only): the dashboard's logins, added and removed here or with `tracker user`.

The tab is shown to admins only, and every callback checks the role again on the server.
Passwords are sent once, over the same connection as the login, hashed at once, never shown.
"""

from __future__ import annotations

import dash_mantine_components as dmc
from dash import html

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
