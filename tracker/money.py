"""Money: the only place that turns text into integer cents and cents into text.

Amounts are integer cents everywhere in the tracker. `Decimal` is used here, only while
parsing and formatting; floats never touch money.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from tracker.errors import ValueProblem

# "1,234.56", "$1,234.56", "-25", "25.5", " 25 ", "USD 25.00", "25.00 USD", "(25.00)" (accounting negative)
_CURRENCY_WORD = re.compile(r"^(?:[A-Z]{3}\s*)?(.*?)(?:\s*[A-Z]{3})?$")
_SYMBOLS = "$€£¥"
_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?$")


def parse_cents(text: str | int | Decimal) -> int:
    """Parse an amount of money into integer cents.

    Accepts "25", "25.5", "1,234.56", "$1,234.56", "-3.10" and "(3.10)" (a negative amount in
    accounting style). More than two decimal places are rounded half up ("0.005" -> 1 cent).
    Raises ValueProblem with a message for people when the text is not an amount.
    """
    if isinstance(text, int):
        return text * 100
    if isinstance(text, Decimal):
        return _decimal_to_cents(text)
    raw = str(text).strip()
    if not raw:
        raise ValueProblem("the amount is empty; write the gift's amount, e.g. 25.00")
    s = raw
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1].strip()
    s = _CURRENCY_WORD.match(s).group(1).strip()
    if s[:1] in "+-" and s[1:2] in _SYMBOLS:  # "-$5.00"
        s = s[0] + s[2:]
    elif s[:1] in _SYMBOLS:
        s = s[1:].strip()
    if not s or not _NUMBER.match(s) or not any(ch.isdigit() for ch in s):
        raise ValueProblem(f"{raw!r} is not an amount; write it like 25, 25.50 or 1,234.56")
    try:
        value = Decimal(s.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern above already excludes these
        raise ValueProblem(f"{raw!r} is not an amount; write it like 25, 25.50 or 1,234.56") from None
    cents = _decimal_to_cents(value)
    return -cents if negative else cents


# currencies an amount's own symbol allows: "$" is written for several dollars
MARK_CURRENCIES = {"€": ("EUR",), "£": ("GBP",), "¥": ("JPY", "CNY"),
                   "$": ("USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN")}


def written_currencies(text: str) -> tuple[str, ...]:
    """The currencies an amount's own symbol or code names ("€25" -> ("EUR",), "25 GBP" -> ("GBP",));
    () when it names none."""
    s = str(text).strip().strip("()").strip()
    for word in (s[:3], s[-3:]):
        if len(s) > 3 and word.isalpha() and word.isupper():
            return (word,)
    for mark, currencies in MARK_CURRENCIES.items():
        if mark in s:
            return currencies
    return ()


def _decimal_to_cents(value: Decimal) -> int:
    if not value.is_finite():
        raise ValueProblem(f"{value} is not an amount; write it like 25 or 25.50")
    try:
        return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except InvalidOperation:  # more digits than Decimal's precision: no gift is that large
        raise ValueProblem(f"{value:.3e} is not an amount any gift has; check the number") from None


def cents_to_decimal_str(cents: int) -> str:
    """Cents as a plain decimal string with two places: 38596542 -> "385965.42" (JSON, CSV)."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(int(cents)), 100)
    return f"{sign}{whole}.{frac:02d}"


SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$"}


def _with_currency(sign: str, text: str, currency: str) -> str:
    symbol = SYMBOLS.get(currency, "")
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}"


def format_money(cents: int, currency: str = "USD", *, whole: bool = False) -> str:
    """Cents for people: 38596542 -> "$385,965.42"; with whole=True -> "$385,965" (rounded half up).

    The currency's symbol where it has a common one ("€1,250.00"), else its code after the amount."""
    sign = "-" if cents < 0 else ""
    amount = abs(int(cents))
    if whole:
        text = f"{(amount + 50) // 100:,}"
    else:
        units, frac = divmod(amount, 100)
        text = f"{units:,}.{frac:02d}"
    return _with_currency(sign, text, currency)


def format_money_per_unit(cents: int, units: int, currency: str = "USD", places: int = 4) -> str | None:
    """Money per unit for people, exact and rounded half up: (2345, 1000, "EUR") -> "€0.0235"; None for 0 units."""
    value = cents_per_unit_str(cents, units, places)
    if value is None:
        return None
    return _with_currency("-" if value.startswith("-") else "", value.lstrip("-"), currency)


def percent_of(part_cents: int, whole_cents: int, places: int = 2) -> Decimal:
    """part / whole as a percentage, exact and rounded half up to `places` decimals; 0 when whole is 0."""
    if whole_cents <= 0:
        return Decimal(0)
    q = Decimal(1).scaleb(-places)
    return (Decimal(part_cents) * 100 / Decimal(whole_cents)).quantize(q, rounding=ROUND_HALF_UP)


def cents_per_unit_str(cents: int, units: int, places: int = 4) -> str | None:
    """Money per unit as a decimal string of dollars, exact and rounded half up: (2345, 1000) -> "0.0235"; None for 0 units."""
    if units <= 0:
        return None
    q = Decimal(1).scaleb(-places)
    return str((Decimal(cents) / 100 / Decimal(units)).quantize(q, rounding=ROUND_HALF_UP))
