"""The frame every page sits in: who is logged in, the campaign and "as of" choosers, the refresh
switch, and one tab per page (Users: admins only). Component ids shared by the pages are here."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import dash_mantine_components as dmc
from dash import dcc, html

CAMPAIGN = "campaign-select"
REFRESH = "refresh-interval"
AS_OF = "as-of-text"
NOTICE = "notice"
AS_OF_PICKER = "as-of-picker"
AS_OF_MESSAGE = "as-of-message"
FUTURE = "that's in the future — showing now"
AUTO_REFRESH = "auto-refresh"

EMPTY_GUIDANCE = (
    "There are no campaigns yet. Create one with `tracker campaign create --help`, import gifts with "
    "`tracker ingest donations FILE`, or try the demo with `tracker demo`."
)


def as_of_message(picked: str | None, tz: ZoneInfo, now: datetime) -> tuple[str, str]:
    """What the as-of box says about what was typed in it: (message, colour). Nothing typed or a moment up to
    `now`: no message; a moment that cannot be read: why, and how to write one; a later moment: FUTURE."""
    from tracker.dates import parse_as_of
    from tracker.errors import ValueProblem

    if not (picked or "").strip():
        return "", "dimmed"
    try:
        at = parse_as_of(picked, tz)
    except ValueProblem as exc:
        return f"Not a moment I can read — showing now. {exc}", "red.8"
    return (FUTURE, "orange.9") if at > now else ("", "dimmed")


def account(user: str | None, role: str | None, open_mode: bool, csrf: str = ""):
    """Who is logged in, a link to change their password and a logout button (a form carrying the CSRF token);
    or, running open, a plain warning."""
    if open_mode:
        return dmc.Alert("No users are set up, so this dashboard is open to anyone on this computer and shows "
                         "everything. Add one with `tracker user add NAME --role admin`.", color="yellow",
                         id="open-mode", mb="sm")
    if not user:
        return None
    return dmc.Group([
        dmc.Text(f"{user} ({role})", id="account-name", c="dimmed"),
        html.A("Change password", href="/account/password", id="change-password",
               style={"color": "#0072B2", "padding": "4px 8px"}),
        html.Form([dcc.Input(type="hidden", name="csrf", value=csrf, id="logout-csrf"),
                   html.Button("Log out", type="submit", id="logout",
                               style={"font": "inherit", "color": "#0072B2", "background": "none", "border": 0,
                                      "cursor": "pointer", "padding": "4px 8px"})],
                  method="post", action="/logout", style={"margin": 0}),
    ], justify="flex-end", gap="xs")


def layout(refresh_ms: int, user: str | None = None, role: str | None = None, open_mode: bool = False,
           pinned: datetime | None = None, donor_level: bool = False, csrf: str = "",
           pinned_label: str | None = None) -> dmc.Container:
    """The whole dashboard: header (campaign, as-of, auto-refresh) and one tab per page (Users: admins only)."""
    from dashboards.pages import appeals, donors, finance, imports, overview, reports, users

    admin = role == "admin" and not open_mode

    def panel(children, value):
        return dmc.TabsPanel(dcc.Loading(children, type="dot", delay_show=300), value=value)

    refresh_label = f"Refresh every {refresh_ms // 1000} s"
    return dmc.Container(
        [
            account(user, role, open_mode, csrf),
            dmc.Group(
                [
                    dmc.Group([dmc.Title("Year-end campaign", order=1, className="shell-title"),
                               *([dmc.Text(pinned_label, id="pinned-label", size="xl", fw=600, c="#B35900")]
                                 if pinned_label else [])], align="center"),
                    dmc.Group([
                        dmc.Select(id=CAMPAIGN, data=[], value=None, w=260, maw="100%", size="lg", allowDeselect=False,
                                   label="Campaign", comboboxProps={"withinPortal": True}),
                        dmc.TextInput(id=AS_OF_PICKER, label="As of (campaign time)", size="lg", w=260, maw="100%",
                                      debounce=True, placeholder="now, or 2026-12-20 18:00" if pinned is None
                                      else "the pinned moment, or earlier"),
                        dmc.Switch(id=AUTO_REFRESH, label=refresh_label, checked=pinned is None, size="md",
                                   disabled=pinned is not None),
                    ], align="flex-end", className="shell-controls"),
                ],
                justify="space-between", align="flex-end", className="shell-header",
            ),
            dmc.Text(id=AS_OF_MESSAGE, size="md", mt="xs", fw=700, **{"aria-live": "polite"}),
            dmc.Text(id=AS_OF, c="dimmed", size="md", mt="xs"),
            html.Div(id=NOTICE),
            dmc.Tabs(
                [
                    dmc.TabsList([dmc.TabsTab("Overview", value=overview.TAB, fz="lg", id="tab-overview"),
                                  dmc.TabsTab("Donors", value=donors.TAB, fz="lg", id="tab-donors"),
                                  dmc.TabsTab("Appeals", value=appeals.TAB, fz="lg", id="tab-appeals"),
                                  dmc.TabsTab("Finance", value=finance.TAB, fz="lg", id="tab-finance"),
                                  dmc.TabsTab("Imports", value=imports.TAB, fz="lg", id="tab-imports"),
                                  dmc.TabsTab("Reports", value=reports.TAB, fz="lg", id="tab-reports"),
                                  *([dmc.TabsTab("Users", value=users.TAB, fz="lg", id="tab-users")] if admin else [])]),
                    panel(overview.layout(), overview.TAB),
                    panel(html.Div(id=donors.CONTENT), donors.TAB),
                    panel(html.Div(id=appeals.CONTENT), appeals.TAB),
                    dmc.TabsPanel(finance.layout(donor_level), value=finance.TAB),
                    panel(html.Div(id=imports.CONTENT), imports.TAB),
                    panel(html.Div(id=reports.CONTENT), reports.TAB),
                    *([dmc.TabsPanel(users.layout(), value=users.TAB)] if admin else []),
                ],
                value=overview.TAB, mt="md", id="pages",
            ),
            dcc.Interval(id=REFRESH, interval=refresh_ms, disabled=pinned is not None),
        ],
        fluid=True, py="lg", className="shell",
    )
