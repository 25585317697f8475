"""Milestones and alerts, worked out from a campaign's status and its sources. Pure: no database, no clock.

- A milestone is a percentage of the goal (or of the new-donor goal) that raised has reached.
- "Behind the typical curve" holds while raised is more than a margin below where the goal's typical
  curve of earlier years stands at this moment, inside the campaign window.
- A match pool's use: 80% and 100% of its cap earned (100 only when nothing remains), "match-ID-80".
Each alert has a key ("goal-50", "new-donors-25", "behind-typical") that is recorded when sent, so
it is sent once. When several milestones of one kind are reached between two checks (a first run on
the 20th, say), only the highest is sent and the lower ones are recorded as passed over by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from tracker.campaign import GOAL_COUNTS_TEXT, Status
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
    out = [("goal", p) for p in percents if st.goal_cents and st.progress * 100 >= st.goal_cents * p]
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
            counting = GOAL_COUNTS_TEXT.get(st.goal_counts, "")
            text = (f"{st.name} passed {p}% of its goal: {money(st.progress)} of {money(st.goal_cents)}"
                    + (f" ({counting})" if counting else ""))
        else:
            g = _new_donor_goal(st)
            text = f"{st.name} passed {p}% of its new-donor goal: {g.count:,} of {g.goal:,} new donors"
        out.append(Alert(f"{group}-{p}", group, p, text))
    out += match_alerts(st)
    typical = st.typical_cents_by_now
    inside = st.starts_at <= st.as_of < st.ends_at
    if behind_margin_percent and inside and typical and st.raised_cents * 100 < typical * (100 - behind_margin_percent):
        short = typical - st.raised_cents
        out.append(Alert("behind-typical", "behind", behind_margin_percent,
                         f"{st.name} is behind the typical curve: {money(st.raised_cents)} raised, typically "
                         f"{money(typical)} by now ({money(short)} short, {short * 100 // typical}% behind)"))
    return out


MATCH_LEVELS = (80, 100)  # percent of a match pool's cap earned


def match_alerts(st: Status) -> list[Alert]:
    """A pool 80% used (earned * 100 >= cap * 80, in integers) and 100% used (nothing remains); one group per pool,
    so only the highest reached is sent when both are reached between two checks."""
    money = lambda cents: format_money(cents, st.currency)  # noqa: E731
    out = []
    for p in st.match.pools:
        for level in MATCH_LEVELS:
            used = p.remaining_cents == 0 if level == 100 else p.earned_cents * 100 >= p.cap_cents * level
            if not used:
                continue
            what = "is used up" if level == 100 else f"is {level}% used"
            rest = "" if level == 100 else f", {money(p.remaining_cents)} left"
            out.append(Alert(f"match-{p.pool.id}-{level}", f"match-{p.pool.id}", level,
                             f"{st.name}: the {p.pool.name} match {what}: {money(p.earned_cents)} of "
                             f"{money(p.cap_cents)} earned{rest}"))
    return out


def source_alerts(st: Status, *, now: datetime, last_received: dict[str, datetime], sources: tuple[str, ...],
                  silent_minutes: int, active_hours: tuple[int, int], failing: int, failing_threshold: int) -> list[Alert]:
    """Alerts about where the gifts come from: a webhook source silent for `silent_minutes` of the campaign's
    active hours (local [from, to)), and events that keep failing. Each silence is alerted once (its key is
    the last delivery it follows); failing events once a day while they fail."""
    out = []
    local = now.astimezone(ZoneInfo(st.timezone))
    inside = st.starts_at <= now < st.ends_at
    start, end = active_hours
    if silent_minutes and inside and start <= local.hour < end:
        opened = datetime.combine(local.date(), time(start), tzinfo=local.tzinfo)
        for source in sources:
            last = last_received.get(source)
            quiet_since = max(last, opened) if last else opened
            if (now - quiet_since).total_seconds() >= silent_minutes * 60:
                since = "no delivery yet" if last is None else f"the last at {last.astimezone(local.tzinfo):%b %d %H:%M}"
                key = f"silent-{source}-{'never' if last is None else last.strftime('%Y%m%dT%H%M%S')}"
                out.append(Alert(key, f"silent-{source}", 0, f"{st.name}: {source} has sent no webhook for "
                                 f"{int((now - quiet_since).total_seconds() // 60)} minutes ({since}); check its "
                                 "dashboard's webhook deliveries and the tracker's /hooks endpoint"))
    if failing_threshold and failing >= failing_threshold:
        out.append(Alert(f"webhooks-failing-{local:%Y%m%d}", "failing", 0,
                         f"{st.name}: {failing} webhook events failed to apply; see tracker webhooks list --status failed"))
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
