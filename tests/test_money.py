from decimal import Decimal

import pytest

from tracker.errors import ValueProblem
from tracker.money import cents_to_decimal_str, format_money, parse_cents, percent_of


@pytest.mark.parametrize(
    "text, cents",
    [
        ("25", 2500),
        ("25.5", 2550),
        ("25.50", 2550),
        ("1,234.56", 123456),
        ("$1,234.56", 123456),
        (" $ 7.05 ", 705),
        ("0.1", 10),
        ("0.005", 1),  # half up
        ("0.004", 0),
        ("-3.10", -310),
        ("-$3.10", -310),
        ("(3.10)", -310),
        ("USD 12.00", 1200),
        ("12.00 USD", 1200),
        ("10000000", 1_000_000_000),
        ("1234567.89", 123456789),
        (".99", 99),
    ],
)
def test_amount_text_becomes_exact_cents(text, cents):
    assert parse_cents(text) == cents


@pytest.mark.parametrize("text", ["", "twenty", "1,23.45", "12.3.4", "$", "1e5", "NaN", "12,34"])
def test_text_that_is_not_an_amount_is_refused_with_a_hint(text):
    with pytest.raises(ValueProblem) as exc:
        parse_cents(text)
    assert "amount" in str(exc.value)


def test_float_sums_would_drift_but_cents_do_not():
    amounts = ["0.10"] * 10 + ["0.20"] * 10
    assert sum(parse_cents(a) for a in amounts) == 300
    assert sum(float(a) for a in amounts) != 3.0  # the reason money is never a float


@pytest.mark.parametrize(
    "cents, text", [(38596542, "385965.42"), (0, "0.00"), (5, "0.05"), (-150, "-1.50"), (100, "1.00")]
)
def test_cents_render_as_two_place_decimal_strings(cents, text):
    assert cents_to_decimal_str(cents) == text
    assert parse_cents(text) == cents


def test_money_for_people_has_symbol_and_separators():
    assert format_money(38596542) == "$385,965.42"
    assert format_money(38596550, whole=True) == "$385,966"
    assert format_money(-2500) == "-$25.00"
    assert format_money(1999, "SEK") == "19.99 SEK"


def test_percent_is_exact_and_keeps_counting_past_100():
    assert percent_of(1, 3) == Decimal("33.33")
    assert percent_of(2, 3) == Decimal("66.67")
    assert percent_of(45_000_000, 40_000_000) == Decimal("112.50")
    assert percent_of(5, 0) == Decimal(0)
