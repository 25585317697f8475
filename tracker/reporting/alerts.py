"""Milestones and alerts, worked out from a campaign's status. Pure: no database, no clock.

- A milestone is a percentage of the goal (or of the new-donor goal) that raised has reached.
- "Behind the typical curve" holds while raised is more than a margin below where the goal's typical
  curve of earlier years stands at this moment, inside the campaign window.
Each alert has a key ("goal-50", "new-donors-25", "behind-typical") that is recorded when sent, so
it is sent once. When several milestones of one kind are reached between two checks (a first run on
the 20th, say), only the highest is sent and the lower ones are recorded as passed over by it.
"""

from __future__ import annotations

from dataclasses import dataclass

from tracker.campaign import Status
from tracker.money import format_money


@dataclass(frozen=True)
class Alert:
    key: str
    group: str  # goal | new-donors | behind
    level: int  # the milestone's percentage, or the margin
    headline: str


def _new_donor_goal(st: Status):
    return next((g for g in st.goals if g.name == "new_donors"), None)


def reached(st: Status, percents: tuple[int, ...]) -> list[tuple[str, int]]:
    """(group, percent) of every milestone reached by now: raised * 100 >= goal * percent, in integers."""
    out = [("goal", p) for p in percents if st.goal_cents and st.raised_cents * 100 >= st.goal_cents * p]
    g = _new_donor_goal(st)
    if g:
        out += [("new-donors", p) for p in percents if g.count * 100 >= g.goal * p]
    return out


def current(st: Status, percents: tuple[int, ...], behind_margin_percent: int | None) -> list[Alert]:
    """Every alert whose condition holds now."""
    money = lambda cents: format_money(cents, st.currency)  # noqa: E731
    out = []
    for group, p in reached(st, percents):
        if group == "goal":
            text = f"{st.name} passed {p}% of its goal: {money(st.raised_cents)} of {money(st.goal_cents)}"
        else:
            g = _new_donor_goal(st)
            text = f"{st.name} passed {p}% of its new-donor goal: {g.count:,} of {g.goal:,} new donors"
        out.append(Alert(f"{group}-{p}", group, p, text))
    typical = st.typical_cents_by_now
    inside = st.starts_at <= st.as_of < st.ends_at
    if behind_margin_percent and inside and typical and st.raised_cents * 100 < typical * (100 - behind_margin_percent):
        short = typical - st.raised_cents
        out.append(Alert("behind-typical", "behind", behind_margin_percent,
                         f"{st.name} is behind the typical curve: {money(st.raised_cents)} raised, typically "
                         f"{money(typical)} by now ({money(short)} short, {short * 100 // typical}% behind)"))
    return out


def to_send(alerts: list[Alert], recorded: set[str]) -> tuple[list[Alert], list[tuple[Alert, Alert]]]:
    """What to send now (the highest new milestone of each group) and what it passes over (alert, by)."""
    send, passed = [], []
    for group in dict.fromkeys(a.group for a in alerts):
        pending = sorted((a for a in alerts if a.group == group and a.key not in recorded), key=lambda a: a.level)
        if pending:
            send.append(pending[-1])
            passed += [(a, pending[-1]) for a in pending[:-1]]
    return send, passed


def milestones_crossed(st: Status, percents: tuple[int, ...], before_raised_cents: int | None,
                       before_new_donors: int | None) -> list[str]:
    """Milestones reached since a report that showed the given figures (None: no report yet, so all reached)."""
    out = []
    for group, p in reached(st, percents):
        if group == "goal":
            if before_raised_cents is None or before_raised_cents * 100 < st.goal_cents * p:
                out.append(f"{p}% of the goal")
        else:
            g = _new_donor_goal(st)
            if before_new_donors is None or before_new_donors * 100 < g.goal * p:
                out.append(f"{p}% of the new-donor goal")
    return out
