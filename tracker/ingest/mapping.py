"""Any other CSV, through a small TOML mapping file: which column is which, how dates and amounts
are written, which rows are gifts and what their statuses mean. So a newsroom can load an ActBlue,
Classy, Donorbox or CRM export without code. Shipped mappings live in data/mappings/.

    [mapping]
    name = "ActBlue paid contributions"
    source = "actblue"             # donation ids are unique per source
    timezone = "America/New_York"  # for times without an offset (default: the organization's)
    dayfirst = false               # 05/12/2026 is May 12 (true: 5 December; unset: the file's dates decide)
    date_format = ""               # a strptime format when dates need one, e.g. "%d.%m.%Y %H:%M"
    decimal_comma = false          # true: amounts written 1.230,99 (unset: the file's amounts decide)
    currency = "USD"               # when there is no currency column
    amount_includes_fee = true     # false when the amount column is net of a (negative) fee column
    header_line = 1                # the line the header is on, when instructions come first
    processor = "stripe"           # a CRM export: whose id its processor_id column holds
    pledged = false                # true: the rows are pledges, promised and not received yet (README: Pledges)
    pledge_kind = "paypal_giving_fund"  # with pledged: their kind when there is no kind column
    expected_after_days = 45       # with pledged: the money is expected this many days after the pledge's date

    [columns]                      # tracker field = column name, or a list of columns joined by spaces
    donation_id = "Receipt ID"
    amount = "Amount"
    donated_at = "Date"
    email = "Donor Email"
    name = ["Donor First Name", "Donor Last Name"]
    processor_id = "Stripe Charge ID"  # (a CRM export) the gift Stripe's export holds too: recognized, not added
    # with pledged = true also: expected_at (the day the money is expected), kind, reference

    [include]                      # only rows whose column holds one of these values are gifts
    "Kind" = ["CONTRIBUTION"]
    [exclude]                      # rows whose column holds one of these values are not
    "Is Reverse" = ["REVERSE"]

    [statuses]                     # the file's status values (any case) -> succeeded, pending, failed, ...
    "Paid" = "succeeded"

    [refunded_when]                # a row is refunded in full when a column holds one of these values
    "Is Reversed" = ["REVERSED"]   # ("*" matches any value that is not empty)

Column names match whatever their case. Rows left out by include/exclude are skipped and counted;
a status value not listed is rejected.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from tracker.dates import zone
from tracker.errors import InputFileError, UsageError, ValueProblem
from tracker.ingest import fields
from tracker.ingest.generic import OPTIONAL, REQUIRED
from tracker.ingest.records import Outcome, Skipped
from tracker.models import PLEDGE_KINDS, STATUSES
from tracker.money import cents_to_decimal_str

NAME = "mapping"
FIELDS = REQUIRED + OPTIONAL
MAPPINGS_DIR = Path(__file__).resolve().parent.parent.parent / "data" / "mappings"
_OPTIONS = {"name", "source", "timezone", "dayfirst", "date_format", "decimal_comma", "currency", "amount_includes_fee",
            "header_line", "processor", "pledged", "pledge_kind", "expected_after_days"}
PLEDGE_FIELDS = ("expected_at", "kind", "reference")  # columns only a mapping of pledges has


@dataclass(frozen=True)
class Mapping:
    name: str
    source: str | None
    columns: dict[str, list[str]]
    include: dict[str, set[str]]
    exclude: dict[str, set[str]]
    statuses: dict[str, str]
    refunded_when: dict[str, set[str]]
    timezone: str | None
    dayfirst: bool | None  # None: decided from the file's dates (tracker.ingest.conventions)
    date_format: str | None
    decimal_comma: bool | None  # None: decided from the file's amounts
    currency: str | None
    amount_includes_fee: bool
    header_line: int = 1
    processor: str | None = None  # the processor whose ids the processor_id column holds
    pledged: bool = False  # the rows are pledges (tracker.ingest.pledges), not gifts
    pledge_kind: str | None = None  # their kind when no kind column says it
    expected_after_days: int | None = None  # their money is expected this many days after the pledge's date


def resolve(name_or_path: str) -> Path:
    """A mapping file by path, or by the name of a shipped mapping (actblue -> data/mappings/actblue.toml)."""
    path = Path(name_or_path)
    if path.exists():
        return path
    shipped = MAPPINGS_DIR / f"{name_or_path}.toml"
    if shipped.exists():
        return shipped
    known = ", ".join(sorted(p.stem for p in MAPPINGS_DIR.glob("*.toml"))) or "none"
    raise UsageError(f"no mapping file {name_or_path!r} (shipped mappings: {known})")


def load(path: Path) -> Mapping:
    """Read and check a mapping file; every mistake is a one-line UsageError naming the file and the key."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: is not valid TOML ({exc})") from None
    opts = raw.get("mapping", {})
    unknown = set(opts) - _OPTIONS
    if unknown:
        raise UsageError(f"{path}: unknown [mapping] option(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(_OPTIONS))}")
    columns = {}
    pledged = _flag(path, opts, "pledged") or False
    for key, value in raw.get("columns", {}).items():
        if key in PLEDGE_FIELDS and not pledged:
            raise UsageError(f"{path}: [columns] {key} is a pledge's field; say [mapping] pledged = true when the "
                             "file's rows are pledges, or leave it out")
        if key not in REQUIRED + OPTIONAL + (PLEDGE_FIELDS if pledged else ()):
            raise UsageError(f"{path}: [columns] {key} is not a tracker field; use {', '.join(REQUIRED + OPTIONAL)}")
        columns[key] = [value] if isinstance(value, str) else list(value)
    pledge_kind, after = _pledge_options(path, opts, pledged, columns)
    processor = opts.get("processor")
    if processor is not None and (not isinstance(processor, str) or not processor.strip()):
        raise UsageError(f"{path}: [mapping] processor names the payment processor of the processor_id column, "
                         "e.g. processor = \"stripe\"")
    if processor and "processor_id" not in columns:
        raise UsageError(f"{path}: [mapping] processor = {processor!r} needs [columns] processor_id, the column holding "
                         "that processor's id of each gift (e.g. processor_id = \"Stripe Charge ID\")")
    if processor and "processor" in columns:
        raise UsageError(f"{path}: say the processor once: either [mapping] processor or [columns] processor")
    missing = [k for k in REQUIRED if k not in columns]
    if missing:
        raise UsageError(f"{path}: [columns] must say which column holds {', '.join(missing)}")
    statuses = {}
    for text, status in raw.get("statuses", {}).items():
        if status not in STATUSES:
            raise UsageError(f"{path}: [statuses] {text!r} = {status!r}: use one of {', '.join(STATUSES)}")
        statuses[text.strip().lower()] = status
    if opts.get("timezone"):
        zone(opts["timezone"])

    def sets(table: str) -> dict[str, set[str]]:
        return {col: {str(v).strip().lower() for v in (vals if isinstance(vals, list) else [vals])}
                for col, vals in raw.get(table, {}).items()}

    return Mapping(
        name=opts.get("name", path.stem), source=opts.get("source"), columns=columns, include=sets("include"),
        exclude=sets("exclude"), statuses=statuses, refunded_when=sets("refunded_when"),
        timezone=opts.get("timezone") or None, dayfirst=_flag(path, opts, "dayfirst"),
        date_format=opts.get("date_format") or None, decimal_comma=_flag(path, opts, "decimal_comma"),
        currency=opts.get("currency"), amount_includes_fee=bool(opts.get("amount_includes_fee", True)),
        header_line=_header_line(path, opts.get("header_line", 1)),
        processor=processor.strip().lower() if processor else None,
        pledged=pledged, pledge_kind=pledge_kind, expected_after_days=after,
    )


def _pledge_options(path: Path, opts: dict, pledged: bool, columns: dict) -> tuple[str | None, int | None]:
    """[mapping] pledge_kind and expected_after_days, checked: only with pledged = true, a known kind, whole days."""
    kind, after = opts.get("pledge_kind"), opts.get("expected_after_days")
    if not pledged:
        if kind is not None or after is not None:
            raise UsageError(f"{path}: [mapping] pledge_kind and expected_after_days are for a file of pledges; "
                             "add pledged = true")
        return None, None
    if kind is not None and kind not in PLEDGE_KINDS:
        raise UsageError(f"{path}: [mapping] pledge_kind = {kind!r}: use one of {', '.join(PLEDGE_KINDS)}")
    if kind is None and "kind" not in columns:
        raise UsageError(f"{path}: a file of pledges needs their kind: [mapping] pledge_kind = \"paypal_giving_fund\" "
                         f"(one of {', '.join(PLEDGE_KINDS)}), or a kind column in [columns]")
    if after is not None and (isinstance(after, bool) or not isinstance(after, int) or not 0 <= after <= 366):
        raise UsageError(f"{path}: [mapping] expected_after_days is a whole number of days, 0 to 366, e.g. 45")
    return kind, after


def _flag(path: Path, opts: dict, key: str) -> bool | None:
    if key not in opts:
        return None
    if not isinstance(opts[key], bool):
        raise UsageError(f"{path}: [mapping] {key} is true or false (or left out, so that the file's values decide)")
    return opts[key]


def _header_line(path: Path, value) -> int:
    if not isinstance(value, int) or value < 1:
        raise UsageError(f"{path}: [mapping] header_line must be a line number, 1 or more")
    return value


def rules_for(mapping: Mapping, rules: fields.RowRules) -> fields.RowRules:
    return replace(
        rules,
        timezone=zone(mapping.timezone) if mapping.timezone else rules.timezone,
        dayfirst=rules.dayfirst if mapping.dayfirst is None else mapping.dayfirst,
        date_format=mapping.date_format,
        decimal_comma=rules.decimal_comma if mapping.decimal_comma is None else mapping.decimal_comma,
        statuses=mapping.statuses,
    )


def normalizer(path: Path, header: list[str], rules: fields.RowRules, mapping: Mapping) -> Callable[[int, list[str]], Outcome]:
    found = {}
    for i, h in enumerate(header):
        found.setdefault(h.strip().lower(), i)
    for col in [c for cols in mapping.columns.values() for c in cols] + list(mapping.include) + list(
        mapping.exclude) + list(mapping.refunded_when):
        if col.strip().lower() not in found:
            raise InputFileError(f"{path}: the mapping {mapping.name!r} needs a column {col!r}, which the file lacks")

    def index(col: str) -> int:
        return found[col.strip().lower()]

    where = str(path)
    columns = {field: [index(c) for c in cols] for field, cols in mapping.columns.items()}
    include = [(index(c), vals, c) for c, vals in mapping.include.items()]
    exclude = [(index(c), vals, c) for c, vals in mapping.exclude.items()]
    refunded_when = [(index(c), vals) for c, vals in mapping.refunded_when.items()]
    row_rules = rules_for(mapping, rules)
    default_currency = mapping.currency or ""

    def normalize(line: int, values: list[str]) -> Outcome:
        n = len(values)

        def cell(i: int) -> str:
            return values[i].strip() if i < n else ""

        for i, allowed, col in include:
            if cell(i).lower() not in allowed:
                return Skipped(line, f"{col} is {cell(i)!r}, not a gift under this mapping", f"{col} {cell(i)}")
        for i, banned, col in exclude:
            if cell(i).lower() in banned:
                return Skipped(line, f"{col} is {cell(i)!r}, left out by this mapping", f"{col} {cell(i)}")

        def get(field: str) -> str:
            idxs = columns.get(field)
            if not idxs:
                return default_currency if field == "currency" else ""
            return " ".join(v for v in (cell(i) for i in idxs) if v)

        data = {f: get(f) for f in FIELDS}
        if mapping.processor and data["processor_id"]:
            data["processor"] = mapping.processor
        if not mapping.amount_includes_fee and columns.get("fee"):
            try:  # the amount column is net of a (negative) fee: the gift is net + fee
                net = fields.amount_cents(data["amount"], row_rules)
                fee = abs(fields.amount_cents(data["fee"] or "0", row_rules))
            except ValueProblem:
                pass  # from_fields reports the unreadable value
            else:
                data["amount"], data["fee"] = cents_to_decimal_str(net + fee), cents_to_decimal_str(fee)
        if any(cell(i).lower() in vals or ("*" in vals and cell(i)) for i, vals in refunded_when):
            data["status"], data["refunded_amount"] = "refunded", ""
        return fields.from_fields(where, line, data, row_rules)

    return normalize
