"""Popup appeal copy: the variants' files, their placeholders, and the copy as readers see it. Pure.

Copy may hold placeholders filled with the campaign's live numbers ({raised}, {days_left}, ...);
an unknown one, or one with a format spec or a conversion ({goal:>99999999}, {goal!r}), is refused
when the variants are loaded. Rendering only ever puts a value in place of a known name: no
padding, no attribute or index lookups, whatever text reached the database. How each variant raises money is in
tracker.appeal_report; the statistics in tracker.appeal_stats.
"""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass
from pathlib import Path

from tracker.campaign import Status
from tracker.errors import UsageError
from tracker.money import format_money

PLACEHOLDERS = {
    "goal": "the goal, e.g. $400,000",
    "raised": "raised so far, e.g. $217,870",
    "gap": "what is still missing, e.g. $182,130",
    "percent": "raised as a percentage of the goal, e.g. 54",
    "deadline": "the deadline's last minute in words, e.g. December 31, 11:59 p.m.",
    "days_left": "whole days left (0 on the last day)",
    "hours_left": "whole hours left",
    "donors": "donors so far",
    "new_donors": "first-time donors so far",
}
COPY_FIELDS = ("headline", "body", "button")


@dataclass(frozen=True)
class VariantSpec:
    """One [[variant]] of an appeals file."""

    key: str
    name: str
    headline: str
    body: str
    button: str
    control: bool
    active: bool
    share_bp: int | None  # planned traffic share in basis points

    @property
    def copy(self) -> tuple[str, str, str]:
        return self.headline, self.body, self.button


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


def parse_variants(path: Path) -> list[VariantSpec]:
    """Read and check an appeals TOML file: one [[variant]] table each. Raises UsageError naming file, variant, fix."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not valid TOML ({exc}); see data/appeals.toml for an example") from None
    tables = data.get("variant")
    if not isinstance(tables, list) or not tables:
        raise UsageError(f"{path}: no [[variant]] tables; see data/appeals.toml for an example")
    specs, seen = [], set()
    for i, t in enumerate(tables, 1):
        where = f"{path}: variant {t.get('key', f'#{i}')!r}"
        for field in ("key", "name", *COPY_FIELDS):
            if not isinstance(t.get(field), str) or not t[field].strip():
                raise UsageError(f"{where}: '{field}' is missing or empty")
        unknown = set(t) - {"key", "name", *COPY_FIELDS, "control", "active", "share"}
        if unknown:
            raise UsageError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        key = t["key"].strip()
        if key in seen:
            raise UsageError(f"{where}: the key appears twice; each variant needs its own key")
        seen.add(key)
        for field in COPY_FIELDS:
            try:
                used = placeholders_in(t[field])
            except ValueError as exc:
                raise UsageError(f"{where}: {field}: {exc} (write {{{{ or }}}} for a literal brace)") from None
            bad = sorted(used - set(PLACEHOLDERS))
            if bad:
                raise UsageError(
                    f"{where}: unknown placeholder {{{bad[0]}}} in its {field}; known: "
                    + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
                )
            spec = formatted_placeholder(t[field])
            if spec:
                name = spec[1:].split("!")[0].split(":")[0]
                raise UsageError(f"{where}: the placeholder {spec} in its {field} has a format or conversion, "
                                 f"which copy may not use; write {{{name}}}")
        share = t.get("share")
        if share is not None and (not isinstance(share, (int, float)) or not 0 < share <= 1):
            raise UsageError(f"{where}: share must be a fraction between 0 and 1, e.g. 0.34")
        for flag in ("control", "active"):
            if flag in t and not isinstance(t[flag], bool):
                raise UsageError(f"{where}: {flag} must be true or false")
        specs.append(VariantSpec(
            key=key, name=t["name"].strip(), headline=t["headline"], body=t["body"], button=t["button"],
            control=t.get("control", False), active=t.get("active", True),
            share_bp=None if share is None else round(share * 10_000),
        ))
    controls = [s.key for s in specs if s.control]
    if len(controls) != 1:
        raise UsageError(f"{path}: exactly one variant must have control = true (found {len(controls)})")
    return specs


def live_values(st: Status) -> dict[str, str]:
    """The placeholder values for a campaign's status, as readers see them."""
    cur = st.currency
    local_deadline = st.deadline.astimezone(st.tz)
    return {
        "goal": format_money(st.goal_cents, cur, whole=True),
        "raised": format_money(st.raised_cents, cur, whole=True),
        "gap": format_money(st.gap_cents, cur, whole=True),
        "percent": str(int(st.percent)),
        "deadline": f"{local_deadline:%B} {local_deadline.day}, {local_deadline.hour % 12 or 12}:{local_deadline.minute:02d} "
                    f"{'p.m.' if local_deadline.hour >= 12 else 'a.m.'}",
        "days_left": str(st.seconds_left // 86_400),
        "hours_left": str(st.seconds_left // 3600),
        "donors": f"{st.donors:,}",
        "new_donors": f"{st.new_donors:,}",
    }


def render(text: str, values: dict[str, str]) -> str:
    """Fill the placeholders of `text` with `values`: each known {name} becomes its value, any format spec or
    conversion ignored; anything else stays as written. So copy stored before the load-time checks
    cannot pad an answer to megabytes or look up attributes."""
    out = []
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:  # a malformed brace (refused at load time): shown as written
        return text
    for literal, field, spec, conversion in parts:
        out.append(literal)
        if field is None:
            continue
        if field in values:
            out.append(values[field])
        else:
            out.append("{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}")
    return "".join(out)


@dataclass(frozen=True)
class RenderedCopy:
    """A variant's copy with its placeholders filled."""

    headline: str
    body: str
    button: str


def render_copy(variant, values: dict[str, str]) -> RenderedCopy:
    """`variant`'s headline, body and button (any object with those attributes) filled with `values`."""
    return RenderedCopy(*(render(getattr(variant, f), values) for f in COPY_FIELDS))

