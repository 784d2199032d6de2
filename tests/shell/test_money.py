"""Parsing and formatting amounts: integer cents, Dutch and English notation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kindpakket.errors import DomainError
from kindpakket.money import MAX_CENTS, format_euro, parse_amount


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("12,50", 1250),
        ("12.50", 1250),
        ("12", 1200),
        ("€ 12,5", 1250),
        ("0,01", 1),
        ("0.5", 50),
        (",75", 75),
        ("1.234,56", 123456),
        ("1,234.56", 123456),
        ("1.250", 125000),
        ("  7,05 ", 705),
        ("300", 30000),
        ("EUR 3", 300),
    ],
)
def test_parse_amount(text: str, cents: int) -> None:
    assert parse_amount(text) == cents


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "invalid_amount"),
        ("abc", "invalid_amount"),
        ("12,505", "invalid_amount"),
        ("1e3", "invalid_amount"),
        ("-5", "amount_not_positive"),
        ("0", "amount_not_positive"),
        ("0,00", "amount_not_positive"),
        ("12,,5", "invalid_amount"),
        ("NaN", "invalid_amount"),
        ("99999999999", "amount_too_large"),
    ],
)
def test_parse_amount_refuses_with_a_code(text: str, code: str) -> None:
    with pytest.raises(DomainError) as info:
        parse_amount(text)
    assert info.value.code == code


@given(st.integers(min_value=1, max_value=MAX_CENTS))
def test_format_then_parse_round_trips(cents: int) -> None:
    assert parse_amount(format_euro(cents, "nl")) == cents
    assert parse_amount(format_euro(cents, "en")) == cents


def test_format_euro() -> None:
    assert format_euro(123456) == "€ 1.234,56"
    assert format_euro(5, "en") == "€0.05"
    assert format_euro(-5) == "€ -0,05"
