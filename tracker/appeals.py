"""Popup appeal copy: the variants' files, their placeholders, and the copy as readers see it. Pure.

Copy may hold placeholders filled with the campaign's live numbers ({raised}, {days_left}, ...);
an unknown one, or one with a format spec or a conversion ({goal:>99999999}, {goal!r}), is refused
when the variants are loaded. Rendering only ever puts a value in place of a known name: no
padding, no attribute or index lookups, whatever text reached the database.

Placeholders know their grammar: {days_left} is "3 days", "1 day", on the last day "5 hours", in its
last two hours "final hours" (a "days" written after it, as older copy did, is taken into the value);
{deadline} ends in "p.m." and a sentence's own period after it is not doubled; money is whole dollars
(the goal with cents only when it has some; raised rounded down, the gap rounded up, so never "$0
short" while something is missing). A variant may give alternative texts for the phase
(`final_48_hours`, `last_day`) and the goal (`no_gifts_yet`; `stretch_goal`: the original goal passed
and the goal raised; `goal_reached`); the one that applies is chosen per moment (`choose`). `check_copy` renders
every text at every hour of the campaign, below, at and past its goal, and refuses copy that would
read wrong at any of them, naming the file's line and the moment.

How each variant raises money is in tracker.appeal_report; the statistics in tracker.appeal_stats.
"""

from __future__ import annotations

import json
import re
import string
import tomllib
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from tracker.campaign import Status, phase as campaign_phase, seconds_left as campaign_seconds_left
from tracker.errors import UsageError
from tracker.matching import ratio_text
from tracker.money import format_money

PLACEHOLDERS = {
    "goal": "the goal, e.g. $400,000 (the raised one once it was raised)",
    "original_goal": "the goal before it was raised, e.g. $375,000 (the goal when it never was)",
    "raised": "raised so far in whole dollars, rounded down, e.g. $217,870",
    "gap": "what is still missing in whole dollars, rounded up, e.g. $182,130",
    "percent": "raised as a percentage of the goal, rounded down, e.g. 54",
    "deadline": "the deadline's last minute in words, e.g. December 31, 11:59 p.m. (a period after it is not doubled)",
    "days_left": "time left in words: 3 days, 1 day; on the last day 5 hours, then final hours",
    "hours_left": "hours left in words: 30 hours, 1 hour, then less than an hour",
    "donors": "donors so far",
    "new_donors": "first-time donors so far",
    "match_remaining": "what the match pools open now can still match, whole dollars rounded up, e.g. $4,250",
    "match_ratio": "the match a dollar given now earns, e.g. 1:1 (two 1:1 pools open at once: 2:1)",
}
MATCH_PLACEHOLDERS = ("match_remaining", "match_ratio")
COPY_FIELDS = ("headline", "body", "button")
ALTERNATIVES = {
    "no_gifts_yet": "nothing raised yet (the campaign's first minutes): no \"$0 raised\", no \"0 readers\"",
    "final_48_hours": "the campaign's last two days (and the last day, unless last_day is given)",
    "last_day": "the campaign's last day",
    "stretch_goal": "the original goal is passed and the goal was raised above it, the new one not yet reached",
    "goal_reached": "raised has reached the goal (a thank-you, or a stretch goal in words)",
    "match_exhausted": "the match pools open now have nothing left to match, or none is open",
}
STATES = ("none", "short", "stretch", "reached")


@dataclass(frozen=True)
class VariantSpec:
    """One [[variant]] of an appeals file, with its alternative texts ({name: {field: text}}, only those given)."""

    key: str
    name: str
    headline: str
    body: str
    button: str
    control: bool
    active: bool
    share_bp: int | None  # planned traffic share in basis points
    alternatives: dict = field(default_factory=dict)
    source: str = field(default="", compare=False, repr=False)  # "FILE: variant 'key'" for messages
    lines: dict = field(default_factory=dict, compare=False, repr=False)  # (alternative or None, field) -> line

    @property
    def copy(self) -> tuple[str, str, str]:
        return self.headline, self.body, self.button

    @property
    def alternatives_json(self) -> str | None:
        """The alternatives as stored (canonical JSON), None when there are none."""
        return alternatives_json(self.alternatives)


def alternatives_json(alternatives: dict | None) -> str | None:
    return json.dumps(alternatives, sort_keys=True, ensure_ascii=False) if alternatives else None


def stored_alternatives(variant) -> dict:
    """A variant's alternatives ({name: {field: text}}) from a VariantSpec or a stored row (JSON text)."""
    raw = getattr(variant, "alternatives", None)
    if not raw:
        return {}
    if isinstance(raw, dict):
        return raw
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return {k: {f: t for f, t in v.items() if f in COPY_FIELDS and isinstance(t, str)}
            for k, v in data.items() if k in ALTERNATIVES and isinstance(v, dict)} if isinstance(data, dict) else {}


def placeholders_in(text: str) -> set[str]:
    """The {names} used in `text` (raises ValueError on a malformed brace)."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def formatted_placeholder(text: str) -> str | None:
    """The first placeholder in `text` written with a format spec or a conversion ("{goal:>9}", "{goal!r}"),
    as written; None when there is none (raises ValueError on a malformed brace)."""
    for _, field, spec, conversion in string.Formatter().parse(text):
        if field is not None and (spec or conversion):
            return "{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
    return None


_TABLE = re.compile(r"^\s*\[\[\s*variant\s*\]\]")
_SUBTABLE = re.compile(r"^\s*\[\s*variant\.([A-Za-z0-9_-]+)\s*\]")
_KEY = re.compile(r"^\s*(?:([A-Za-z0-9_-]+)\s*\.\s*)?(headline|body|button)\s*=")
_INLINE = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=\s*\{")


def _field_lines(text: str) -> list[dict]:
    """Per [[variant]] table, the line of each copy field: {(alternative or None, field): line}, and
    (None, None) for the table's own line. Good enough for messages; TOML itself keeps no lines."""
    out: list[dict] = []
    current: str | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if _TABLE.match(line):
            out.append({(None, None): number})
            current = None
            continue
        if not out:
            continue
        sub = _SUBTABLE.match(line)
        if sub:
            current = sub.group(1)
            out[-1].setdefault((current, None), number)
            continue
        if line.lstrip().startswith("["):
            current = None
            continue
        key = _KEY.match(line)
        if key:
            out[-1].setdefault((key.group(1) or current, key.group(2)), number)
            continue
        inline = _INLINE.match(line)
        if inline and inline.group(1) in ALTERNATIVES:
            for f in COPY_FIELDS:
                if re.search(rf"\b{f}\s*=", line):
                    out[-1].setdefault((inline.group(1), f), number)
            out[-1].setdefault((inline.group(1), None), number)
    return out


def _check_text(where: str, label: str, text: str) -> None:
    try:
        used = placeholders_in(text)
    except ValueError as exc:
        raise UsageError(f"{where}: {label}: {exc} (write {{{{ or }}}} for a literal brace)") from None
    bad = sorted(used - set(PLACEHOLDERS))
    if bad:
        raise UsageError(
            f"{where}: unknown placeholder {{{bad[0]}}} in its {label}; known: "
            + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
        )
    spec = formatted_placeholder(text)
    if spec:
        name = spec[1:].split("!")[0].split(":")[0]
        raise UsageError(f"{where}: the placeholder {spec} in its {label} has a format or conversion, "
                         f"which copy may not use; write {{{name}}}")


def parse_variants(path: Path) -> list[VariantSpec]:
    """Read and check an appeals TOML file: one [[variant]] table each. Raises UsageError naming file, variant, fix.

    Checks each text on its own; whether it reads right at every moment of a campaign is `check_copy`."""
    try:
        raw = path.read_text(encoding="utf-8")
        data = tomllib.loads(raw)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not valid TOML ({exc}); see data/appeals.toml for an example") from None
    tables = data.get("variant")
    if not isinstance(tables, list) or not tables:
        raise UsageError(f"{path}: no [[variant]] tables; see data/appeals.toml for an example")
    lines = _field_lines(raw)
    specs, seen = [], set()
    for i, t in enumerate(tables, 1):
        where = f"{path}: variant {t.get('key', f'#{i}')!r}"
        for field_name in ("key", "name", *COPY_FIELDS):
            if not isinstance(t.get(field_name), str) or not t[field_name].strip():
                raise UsageError(f"{where}: '{field_name}' is missing or empty")
        unknown = set(t) - {"key", "name", *COPY_FIELDS, "control", "active", "share", *ALTERNATIVES}
        if unknown:
            raise UsageError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}; alternative texts are "
                             + ", ".join(f"[variant.{a}]" for a in ALTERNATIVES))
        key = t["key"].strip()
        if key in seen:
            raise UsageError(f"{where}: the key appears twice; each variant needs its own key")
        seen.add(key)
        for field_name in COPY_FIELDS:
            _check_text(where, field_name, t[field_name])
        alternatives = {}
        for alt in ALTERNATIVES:
            if alt not in t:
                continue
            given = t[alt]
            if not isinstance(given, dict) or not given:
                raise UsageError(f"{where}: {alt} must be a table with a headline, body or button, "
                                 f"e.g. [variant.{alt}] then headline = \"...\"")
            extra = set(given) - set(COPY_FIELDS)
            if extra:
                raise UsageError(f"{where}: [variant.{alt}] has unknown field(s) {', '.join(sorted(extra))}; "
                                 "it may give headline, body and button")
            for field_name, text in given.items():
                if not isinstance(text, str) or not text.strip():
                    raise UsageError(f"{where}: [variant.{alt}] '{field_name}' is empty; leave it out to keep "
                                     "the variant's own")
                _check_text(where, f"{alt} {field_name}", text)
            alternatives[alt] = {f: given[f] for f in COPY_FIELDS if f in given}
        share = t.get("share")
        if share is not None and (not isinstance(share, (int, float)) or not 0 < share <= 1):
            raise UsageError(f"{where}: share must be a fraction between 0 and 1, e.g. 0.34")
        for flag in ("control", "active"):
            if flag in t and not isinstance(t[flag], bool):
                raise UsageError(f"{where}: {flag} must be true or false")
        specs.append(VariantSpec(
            key=key, name=t["name"].strip(), headline=t["headline"], body=t["body"], button=t["button"],
            control=t.get("control", False), active=t.get("active", True),
            share_bp=None if share is None else round(share * 10_000), alternatives=alternatives,
            source=f"{path}: variant {key!r}", lines={"path": str(path), **(lines[i - 1] if i <= len(lines) else {})},
        ))
    controls = [s.key for s in specs if s.control]
    if len(controls) != 1:
        raise UsageError(f"{path}: exactly one variant must have control = true (found {len(controls)})")
    return specs


# -- the numbers in words ------------------------------------------------------------------------

def days_left_words(seconds: int, last_day: bool) -> str:
    """{days_left}: "3 days", "1 day"; on the last day (or with less than a day left) "5 hours", and in
    the last two hours "final hours". Whole units, rounded down."""
    days = seconds // 86_400
    if days >= 1 and not last_day:
        return f"{days:,} day{'' if days == 1 else 's'}"
    hours = seconds // 3600
    return f"{hours:,} hours" if hours >= 2 else "final hours"


def hours_left_words(seconds: int) -> str:
    """{hours_left}: "30 hours", "1 hour", then "less than an hour"."""
    hours = seconds // 3600
    if hours >= 2:
        return f"{hours:,} hours"
    return "1 hour" if hours == 1 else "less than an hour"


def deadline_words(deadline: datetime, tz: ZoneInfo) -> str:
    """The deadline's last minute in the campaign's zone: "December 31, 11:59 p.m."."""
    local = deadline.astimezone(tz)
    return (f"{local:%B} {local.day}, {local.hour % 12 or 12}:{local.minute:02d} "
            f"{'p.m.' if local.hour >= 12 else 'a.m.'}")


def _goal_money(cents: int, currency: str) -> str:
    return format_money(cents, currency, whole=cents % 100 == 0)


def goal_state(goal_cents: int, raised_cents: int, original_goal_cents: int | None, donors: int = 1) -> str:
    """none (nothing raised, or no donor, yet), reached (raised >= the goal), stretch (the goal was raised
    above an original goal that raised has passed) or short."""
    if raised_cents <= 0 or donors <= 0:
        return "none"
    if raised_cents >= goal_cents:
        return "reached"
    if original_goal_cents is not None and original_goal_cents < goal_cents and raised_cents >= original_goal_cents:
        return "stretch"
    return "short"


def original_goal(changes, goal_cents: int) -> int:
    """The goal before any edit raised or lowered it (`changes`: the campaign's edits, oldest first)."""
    for change in changes:
        if change.field == "goal_cents" and change.old is not None:
            return int(change.old)
    return goal_cents


@dataclass(frozen=True)
class CopyMoment:
    """What copy is filled with at one moment: the placeholder values, the phase and the goal's state."""

    values: dict
    phase: str
    state: str
    match: str = "open"  # "exhausted": the open match pools have nothing left (or none is open)


def match_values(remaining_cents: int, ratio: str, currency: str) -> dict[str, str]:
    """{match_remaining} rounded up to whole dollars (never "$0" while a cent is left) and {match_ratio}."""
    return {"match_remaining": format_money(-(-remaining_cents // 100) * 100, currency, whole=True),
            "match_ratio": ratio}


def copy_moment_of(*, goal_cents: int, original_goal_cents: int, raised_cents: int, donors: int, new_donors: int,
                   seconds_left: int, phase: str, deadline: datetime, tz: ZoneInfo, currency: str,
                   match_remaining_cents: int = 0, match_ratio: str = "0:1",
                   progress_cents: int | None = None) -> CopyMoment:
    """The values copy is filled with, from the numbers themselves (no database: check_copy calls it per hour).
    `progress_cents`: what the goal counts when it is not raised alone (the campaign's --goal-counts): {gap},
    {percent} and the goal's state follow it; {raised} stays raised."""
    counted = raised_cents if progress_cents is None else progress_cents
    gap = max(0, goal_cents - counted)
    values = {
        "goal": _goal_money(goal_cents, currency),
        "original_goal": _goal_money(original_goal_cents, currency),
        "raised": format_money(raised_cents - raised_cents % 100, currency, whole=True),
        "gap": format_money(-(-gap // 100) * 100, currency, whole=True),
        "percent": str(counted * 100 // goal_cents if goal_cents > 0 else 0),
        "deadline": deadline_words(deadline, tz),
        "days_left": days_left_words(seconds_left, phase == "last_day"),
        "hours_left": hours_left_words(seconds_left),
        "donors": f"{donors:,}",
        "new_donors": f"{new_donors:,}",
        **match_values(match_remaining_cents, match_ratio, currency),
    }
    return CopyMoment(values, phase, goal_state(goal_cents, counted, original_goal_cents, donors),
                      "exhausted" if match_remaining_cents <= 0 else "open")


def copy_moment(st: Status) -> CopyMoment:
    """The values, phase and goal state of a campaign's status, as readers see them."""
    return copy_moment_of(goal_cents=st.goal_cents, original_goal_cents=original_goal(st.changes, st.goal_cents),
                          raised_cents=st.raised_cents, donors=st.donors, new_donors=st.new_donors,
                          seconds_left=st.seconds_left, phase=st.phase, deadline=st.deadline, tz=st.tz,
                          currency=st.currency, match_remaining_cents=st.match.live_remaining_cents,
                          match_ratio=ratio_text(st.match.live_ratio), progress_cents=st.progress)


def live_values(st: Status) -> dict[str, str]:
    """The placeholder values for a campaign's status, as readers see them."""
    return copy_moment(st).values


# -- choosing and filling the copy ---------------------------------------------------------------

def choose(phase: str, state: str, match: str = "open") -> tuple[str, ...]:
    """The alternatives that apply, the first that gives a text winning: the goal's state, then the match's (an
    exhausted match), then the phase."""
    chain = {"none": ("no_gifts_yet",), "reached": ("goal_reached",), "stretch": ("stretch_goal",)}.get(state, ())
    chain += ("match_exhausted",) if match == "exhausted" else ()
    chain += {"last_day": ("last_day", "final_48_hours"), "final_48_hours": ("final_48_hours",)}.get(phase, ())
    return chain


def effective_copy(variant, phase: str, state: str,
                   match: str = "open") -> tuple[str, tuple[str, str, str], tuple[str | None, ...]]:
    """(the alternative used or "default", (headline, body, button), where each field came from: an
    alternative's name or None for the variant's own)."""
    alternatives = stored_alternatives(variant)
    chain = [a for a in choose(phase, state, match) if a in alternatives]
    texts, origins = [], []
    for f in COPY_FIELDS:
        origin = next((a for a in chain if f in alternatives[a]), None)
        texts.append(alternatives[origin][f] if origin else getattr(variant, f))
        origins.append(origin)
    return (chain[0] if chain else "default"), tuple(texts), tuple(origins)


_UNIT_AFTER = re.compile(r"^ (?:days|day|hours|hour)\b")
_UNIT_VALUES = ("days_left", "hours_left")


def render(text: str, values: dict[str, str]) -> str:
    """Fill the placeholders of `text` with `values`: each known {name} becomes its value, any format spec or
    conversion ignored; anything else stays as written. So copy stored before the load-time checks
    cannot pad an answer to megabytes or look up attributes. A unit written after {days_left} or
    {hours_left} ("{days_left} days left") is taken into the value, which says its own; a period after a
    value that ends in one ("{deadline}.") is not doubled."""
    out = []
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:  # a malformed brace (refused at load time): shown as written
        return text
    previous: str | None = None  # the field just filled
    for literal, field_name, spec, conversion in parts:
        if previous in _UNIT_VALUES:
            literal = _UNIT_AFTER.sub("", literal, count=1)
        if previous and out and out[-1].endswith(".") and literal.startswith("."):
            literal = literal[1:]
        out.append(literal)
        previous = None
        if field_name is None:
            continue
        if field_name in values:
            out.append(values[field_name])
            previous = field_name
        else:
            out.append("{" + field_name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}")
    return "".join(out)


@dataclass(frozen=True)
class RenderedCopy:
    """A variant's copy with its placeholders filled; `alternative` is the text used ("default": the variant's own)."""

    headline: str
    body: str
    button: str
    alternative: str = "default"


def render_copy(variant, values: dict[str, str] | CopyMoment) -> RenderedCopy:
    """`variant`'s headline, body and button (any object with those attributes, and optionally
    `alternatives`) filled with `values`; given a CopyMoment, the alternative that applies at it."""
    if isinstance(values, CopyMoment):
        used, texts, _ = effective_copy(variant, values.phase, values.state, values.match)
        return RenderedCopy(*(render(t, values.values) for t in texts), alternative=used)
    return RenderedCopy(*(render(getattr(variant, f), values) for f in COPY_FIELDS))


# -- copy that reads right at every moment -------------------------------------------------------

_PROBLEMS = (
    (re.compile(r"(?<![\d,.])0 (?:days?|hours?|minutes?)\b"), "says no time is left while there is"),
    (re.compile(r"(?<![\d,.])1 (?:days|hours|minutes)\b"), "puts a plural after 1"),
    (re.compile(r"(?:[$€£¥])0(?:\.00)?(?![\d.,]*\d)|(?<![\d,.])0(?:\.00)? [A-Z]{3}\b"), "names an amount of nothing"),
    (re.compile(r"(?<![\d,.])0 (?:readers|donors|supporters|people|of them)\b"), "counts no one"),
    (re.compile(r"(?<!\.)\.\.(?!\.)|([,;:!?])\1"), "doubles a punctuation mark"),
    (re.compile(r"\b(?:days?|hours?) (?:days?|hours?)\b"), "says its unit twice"),
)
_FIX = {
    "names an amount of nothing": "give the variant a [variant.goal_reached] text (and a [variant.stretch_goal] "
                                  "one for a raised goal) that does not speak of what is missing",
    "match exhausted": "give the variant a [variant.match_exhausted] text that does not speak of the match left "
                       "(a goal's text, which wins over it, must not either)",
    "says no time is left while there is": "write {days_left} or {hours_left} alone: they say their unit",
    "puts a plural after 1": "write {days_left} or {hours_left} alone: they say their unit",
    "counts no one": "give the variant a [variant.no_gifts_yet] text for the minutes before the first gift",
    "says its unit twice": "write {days_left} or {hours_left} alone: they say their unit",
    "doubles a punctuation mark": "drop one of them ({deadline} already ends in \"p.m.\")",
}


def copy_problem(text: str) -> tuple[str, str] | None:
    """(what is wrong, the words saying it) for rendered copy that reads wrong; None when it reads right."""
    for pattern, what in _PROBLEMS:
        found = pattern.search(text)
        if found:
            return what, found.group(0)
    return None


@dataclass(frozen=True)
class _Case:
    goal: int
    original: int
    raised: int
    says: str  # the goal's state in words, for messages
    donors: int = 1_204
    new_donors: int = 311


def _cases(goal: int, original: int | None, currency: str) -> list[_Case]:
    """The goal states copy must read right in: nothing raised, short, a cent short, at, a cent past the goal; a stretch goal
    (the campaign's own when its goal was raised, else one a quarter higher)."""
    money = lambda c: _goal_money(c, currency)  # noqa: E731
    cases = [_Case(goal, goal, goal // 2, f"at {money(goal // 2)} of {money(goal)}"),
             _Case(goal, goal, goal - 1, f"a cent short of {money(goal)}"),
             _Case(goal, goal, goal, f"once raised reaches the {money(goal)} goal"),
             _Case(goal, goal, goal + 1, f"once raised passes the {money(goal)} goal")]
    if original is not None and original < goal:
        first, stretch = original, goal
    else:
        first, stretch = goal, goal + max(100, goal // 4 - goal // 4 % 100)
    cases += [_Case(stretch, first, first, f"with the {money(first)} goal passed and raised to {money(stretch)}"),
              _Case(stretch, first, stretch - 1, f"a cent short of a stretch goal of {money(stretch)}"),
              _Case(stretch, first, stretch, f"once raised reaches a stretch goal of {money(stretch)}"),
              _Case(goal, goal, 0, "before the first gift", 0, 0)]
    return cases


def check_copy(specs: list[VariantSpec], campaign, *, original_goal_cents: int | None = None) -> int:
    """Refuse copy that would read wrong at some moment of `campaign` (any object with goal_cents, currency,
    timezone, end_date, starts_at, ends_at): each variant's text that applies, rendered at every hour of the
    window and its last second, below, at and past the goal and a stretch goal, and before the first gift for
    a variant that gives a no_gifts_yet text (without one, "$0 raised" in the first minutes is allowed: any
    {raised} would say it). Raises UsageError naming the
    file's line, the variant, the text, the moment and the fix; returns the number of hours checked. Pure
    string work: fast."""
    tz = ZoneInfo(campaign.timezone)
    starts, ends = campaign.starts_at, campaign.ends_at
    moments, at = [], starts
    while at < ends:
        moments.append(at)
        at += timedelta(hours=1)
    moments.append(ends - timedelta(seconds=1))
    cases = _cases(campaign.goal_cents, original_goal_cents, campaign.currency)
    deadline = ends - timedelta(seconds=1)
    uses_hours = any("hours_left" in placeholders_in(t) for s in specs
                     for t in (*s.copy, *(x for a in s.alternatives.values() for x in a.values())))
    # copy that speaks of the match is checked with room left (a cent: "$1"), and with none ("$0" is refused
    # there: a [variant.match_exhausted] text must not say it)
    uses_match = any(placeholders_in(t) & set(MATCH_PLACEHOLDERS) or "match_exhausted" in s.alternatives
                     for s in specs for t in (*s.copy, *(x for a in s.alternatives.values() for x in a.values())))
    matches = [("open", 5_000_01, ""), ("open", 1, " with a cent of the match left"),
               ("exhausted", 0, " with the match exhausted")] if uses_match else [("open", 5_000_01, "")]
    # the money is the same at every hour of a case, the time words change: fill each case once, then only
    # the moments whose words or phase differ from one already checked
    filled = [copy_moment_of(goal_cents=case.goal, original_goal_cents=case.original, raised_cents=case.raised,
                             donors=case.donors, new_donors=case.new_donors, seconds_left=0, phase="running",
                             deadline=deadline, tz=tz, currency=campaign.currency) for case in cases]
    checked: set = set()
    read_right: set[str] = set()  # rendered texts already found to read right
    chosen: dict = {}
    for moment in moments:
        left = campaign_seconds_left(ends, moment)
        ph = campaign_phase(campaign, moment)
        days = days_left_words(left, ph == "last_day")
        hours = hours_left_words(left) if uses_hours else ""
        if (ph, days, hours) in checked:
            continue
        checked.add((ph, days, hours))
        for (case, base), (match, left_cents, match_says) in ((cb, m) for cb in zip(cases, filled) for m in matches):
            values = {**base.values, "days_left": days, "hours_left": hours or hours_left_words(left),
                      **match_values(left_cents, "1:1", campaign.currency)}
            for i, spec in enumerate(specs):
                if base.state == "none" and "no_gifts_yet" not in spec.alternatives:
                    continue  # "$0 raised" for the first minutes is allowed; a no_gifts_yet text must read right
                if (i, ph, base.state, match) not in chosen:
                    chosen[(i, ph, base.state, match)] = effective_copy(spec, ph, base.state, match)
                _, texts, origins = chosen[(i, ph, base.state, match)]
                for f, text, origin in zip(COPY_FIELDS, texts, origins):
                    rendered = render(text, values)
                    if rendered in read_right:
                        continue
                    problem = copy_problem(rendered)
                    if problem:
                        raise UsageError(_problem_message(spec, f, origin, rendered, problem, moment, tz,
                                                          replace(case, says=case.says + match_says)))
                    read_right.add(rendered)
    return len(moments) - 1  # the hours; the last second is extra


def _problem_message(spec: VariantSpec, f: str, origin: str | None, rendered: str, problem: tuple[str, str],
                     moment: datetime, tz: ZoneInfo, case: _Case) -> str:
    what, words = problem
    path = spec.lines.get("path")
    line = spec.lines.get((origin, f)) or spec.lines.get((origin, None)) or spec.lines.get((None, None))
    where = f"{path}:{line}: variant {spec.key!r}" if path and line else (spec.source or f"variant {spec.key!r}")
    text = f"its [variant.{origin}] {f}" if origin else f"its {f}"
    local = moment.astimezone(tz)
    i = rendered.find(words)
    excerpt = rendered[max(0, i - 40):i + len(words) + 20]
    excerpt = ("..." if i > 40 else "") + excerpt + ("..." if i + len(words) + 20 < len(rendered) else "")
    return (f"{where}: {text} {what} ({words!r}) at {local:%Y-%m-%d %H:%M} {local.tzname()} {case.says}: "
            f"\"{excerpt}\"; {_FIX[_fix_for(case, what)]}")


def _fix_for(case: _Case, what: str) -> str:
    if case.raised <= 0:
        return "counts no one"
    if what == "names an amount of nothing" and case.says.endswith("with the match exhausted"):
        return "match exhausted"
    return what
