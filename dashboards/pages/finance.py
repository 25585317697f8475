"""Finance page: the exports of `tracker export`, filtered and downloadable, and the reconciliation.

A viewer is offered the aggregate exports only; donor-level ones (and names and e-mails) are for
finance and admin, and the download route checks the role again whatever the link says. `show`
is the page's callback as a plain function.
"""

from __future__ import annotations

from datetime import datetime

import dash_mantine_components as dmc
from dash import html
from sqlalchemy.orm import Session

from dashboards.downloads import export_url
from tracker import finance as finance_lib, queries
from tracker.finance import DONOR_LEVEL_KINDS, KINDS, PERSONAL_KINDS, Reconciliation
from tracker.money import format_money
from tracker.wording import count, verb

KIND = "finance-kind"
RANGE = "finance-range"
PERSONAL = "finance-personal"
LINKS = "finance-links"
SUMMARY = "finance-summary"
TAB = "finance"

LABELS = {"donations": "Donations (one row per gift)", "daily": "Daily totals", "channels": "By channel",
          "appeals": "By popup variant", "donors": "Donors with their segment", "lybunt": "LYBUNT donors",
          "reconciliation": "Reconciliation", "pledges": "Pledges (committed, not yet received)"}


def kinds_for(donor_level: bool) -> list[dict]:
    return [{"value": k, "label": LABELS[k]} for k in KINDS if donor_level or k not in DONOR_LEVEL_KINDS]


def layout(donor_level: bool) -> html.Div:
    return html.Div([
        dmc.Group([
            dmc.Select(id=KIND, label="Export", data=kinds_for(donor_level), value="daily", w="100%", maw=300, size="md",
                       allowDeselect=False, comboboxProps={"withinPortal": True}),
            dmc.DatePickerInput(id=RANGE, type="range", label="Local days (inclusive; empty: the whole campaign)",
                                clearable=True, w="100%", maw=360, size="md", valueFormat="YYYY-MM-DD"),
            dmc.Checkbox(id=PERSONAL, label="Include names and e-mails (recorded in the audit log)", size="md",
                         disabled=not donor_level, display="block" if donor_level else "none"),
        ], align="flex-end", mt="md"),
        html.Div(id=LINKS, style={"marginTop": "12px"}),
        html.Div(id=SUMMARY),
    ])


def links(csv_url: str, xlsx_url: str, excel_csv_url: str | None = None) -> dmc.Group:
    """The downloads: CSV, CSV for Excel (a byte-order mark, as `tracker export --excel`: accented names survive
    when Excel opens it) and an Excel workbook."""
    return dmc.Group([
        html.A(dmc.Button("Download CSV", size="md"), href=csv_url, id="download-csv"),
        *([html.A(dmc.Button("Download CSV for Excel", size="md", variant="light"), href=excel_csv_url,
                  id="download-csv-excel", title="A CSV with a byte-order mark, so Excel reads accented names right")]
          if excel_csv_url else []),
        html.A(dmc.Button("Download Excel", size="md", variant="outline"), href=xlsx_url, id="download-xlsx"),
    ])


def summary(r: Reconciliation, currency: str, first, last) -> html.Div:
    money = lambda cents: format_money(cents, currency)  # noqa: E731
    body = [[src, f"{n:,}", money(gross), money(ref), money(fee), money(raised)] for src, n, gross, ref, fee, raised in r.by_source]
    body.append(["All sources", f"{sum(x[1] for x in r.by_source):,}", money(sum(x[2] for x in r.by_source)),
                 money(sum(x[3] for x in r.by_source)), money(sum(x[4] for x in r.by_source)), money(r.by_source_cents)])
    verdict = (f"By source {money(r.by_source_cents)}, by day {money(r.by_day_cents)}, tracker status "
               f"{money(r.status_cents)}: " + ("they tie to the cent." if r.ties else "they DO NOT tie; report this."))
    return html.Div([
        dmc.Title(f"Reconciliation, {first} to {last}", order=3, mt="lg"),
        html.Div(dmc.Table(data={"head": ["Source", "Gifts", "Gross", "Refunds", "Fees", "Raised"], "body": body},
                           striped=True, fz="md", id="reconciliation-table"), className="table-scroll"),
        dmc.Alert(verdict, color="green" if r.ties else "red", id="reconciliation-verdict", mt="sm"),
        *checks(r, money),
        *given_in_other_currencies(r, currency, money),
    ])


def given_in_other_currencies(r: Reconciliation, currency: str, money) -> list:
    """The counted gifts given in other currencies, by the currency given: what donors gave in it, and what that
    counts in the campaign's currency (each gift converted once; the donations export has every gift's rate)."""
    if not r.by_currency:
        return []
    body = [[cur, f"{n:,}", format_money(given, cur), money(gross), money(raised)]
            for cur, n, given, gross, raised in r.by_currency]
    return [
        dmc.Title("Given in other currencies", order=4, mt="lg"),
        html.Div(dmc.Table(data={"head": ["Currency given", "Gifts", "Given", f"Gross in {currency}",
                                          f"Raised in {currency}"], "body": body},
                           striped=True, fz="md", id="reconciliation-currencies"), className="table-scroll"),
        dmc.Text("Each gift is converted once, at the processor's rate or the ECB's of its day; the donations "
                 "export shows every gift's original amount, rate, rate date and source.", size="sm", mt="xs"),
    ]


def checks(r: Reconciliation, money) -> list:
    """The checks against the world outside the tracker: the files' own totals and the undecided duplicates."""
    out = []
    differ = [f for f in r.files if f.file_cents != f.stored_cents]
    if r.files:
        out.append(dmc.Text(
            f"{count(len(r.files), 'import')} since the campaign opened: their files said {money(sum(f.file_cents for f in r.files))}"
            f", stored they count {money(sum(f.stored_cents for f in r.files))}"
            + (f"; {len(differ):,} {verb(len(differ), 'differs', 'differ')} (later refunds, disputes or newer rows): see the CSV's file lines." if differ
               else "."), id="reconciliation-files", mt="sm"))
    pairs, cents = r.duplicates
    if pairs:
        out.append(dmc.Alert(f"{count(pairs, 'likely duplicate pair')} {verb(pairs, 'awaits', 'await')} a decision "
                             f"on the Imports tab: raised counts {money(cents)} twice if "
                             f"{verb(pairs, 'the pair is', 'each pair is')} one gift.", color="yellow",
                             id="reconciliation-duplicates", mt="sm"))
    return out


def show(session: Session, slug: str, kind: str | None, days: list | None, personal: bool | None, at: datetime, *,
         donor_level: bool, chosen: bool) -> tuple:
    """(download links, reconciliation) for the export `kind` of campaign `slug` over the local `days`
    (first, last; empty: the whole campaign) as of `at`. Donor-level kinds and names need `donor_level`;
    `chosen`: the moment was typed in, so the links carry it."""
    first, last = (list(days or []) + [None, None])[:2]
    if kind in DONOR_LEVEL_KINDS and not donor_level:
        kind = "daily"
    personal = bool(personal) and donor_level and kind in PERSONAL_KINDS
    c = queries.get_campaign(session, slug)
    w = finance_lib.window(c, first, last, at)
    stamp = at.astimezone(c.tz).strftime("%Y-%m-%dT%H:%M:%S") if chosen else None
    urls = [export_url(slug, kind, first=str(w.first), last=str(w.last), fmt=fmt, personal=personal, as_of=stamp,
                       excel=excel) for fmt, excel in (("csv", False), ("xlsx", False), ("csv", True))]
    return links(*urls), summary(finance_lib.reconciliation(session, c, w), c.currency, w.first, w.last)
