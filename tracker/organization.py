"""The organization's zone and currency: what naive times are read in and gifts are counted in, for every
entry point (the CLI, the dashboard's forms and downloads)."""

from __future__ import annotations

import os
from zoneinfo import ZoneInfo

from tracker import queries
from tracker.dates import zone


def organization_zone(session) -> ZoneInfo | None:
    """The zone naive times are read in: $TRACKER_TIMEZONE, else the campaigns' zone when they share one.

    None when neither says: naive times are then rejected row by row, saying to pass --timezone."""
    env = os.environ.get("TRACKER_TIMEZONE")
    if env:
        return zone(env)
    zones = queries.campaign_timezones(session)
    if len(zones) == 1:
        return zone(zones.pop())
    return None


def organization_currency(session) -> str:
    """The currency gifts are counted in: $TRACKER_CURRENCY, else the campaigns' when they share one, else USD."""
    env = os.environ.get("TRACKER_CURRENCY")
    if env:
        return env.strip().upper()
    currencies = queries.campaign_currencies(session)
    return currencies.pop() if len(currencies) == 1 else "USD"
