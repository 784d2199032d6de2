"""Money is integer euro cents. One function parses what people type; one formats it."""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

from babel.numbers import format_currency
from flask_babel import lazy_gettext as _l

from kindpakket.errors import DomainError

MAX_CENTS = 100_000_000_00  # one hundred million euro: far above any budget, below 2**53
_AMOUNT = re.compile(r"^(?P<euros>\d{1,3}(?:[.\s]\d{3})+|\d+)?(?:[.,](?P<cents>\d{1,2}))?$")


def parse_amount(text: str) -> int:
    """Return cents for "12,50", "12.50", "€ 12", "1.234,56" or "0,5"; raise DomainError.

    A single separator followed by one or two digits is the decimal mark (Dutch comma or
    English point); a point followed by three digits groups thousands ("1.250" is 1250
    euro, as a Dutch cashier means it).
    """
    raw = (text or "").strip().replace("€", "").replace("EUR", "").strip()
    if raw.startswith("-"):
        raise DomainError("amount_not_positive", _l("The amount must be more than zero."))
    if raw.count(",") == 1 and "." in raw and raw.rfind(".") < raw.rfind(","):
        raw = raw.replace(".", "")  # 1.234,56
    elif raw.count(".") == 1 and "," in raw and raw.rfind(",") < raw.rfind("."):
        raw = raw.replace(",", "")  # 1,234.56
    match = _AMOUNT.match(raw)
    if not raw or not match or (match.group("euros") is None and match.group("cents") is None):
        raise DomainError("invalid_amount", _l("Type an amount like 12,50."), value=str(text)[:40])
    euros = int(re.sub(r"[.\s]", "", match.group("euros") or "0"))
    cents_text = match.group("cents") or "0"
    cents = euros * 100 + int(cents_text.ljust(2, "0"))
    if cents <= 0:
        raise DomainError("amount_not_positive", _l("The amount must be more than zero."))
    if cents > MAX_CENTS:
        raise DomainError("amount_too_large", _l("That amount is too large."))
    return cents


LOCALES = {"nl": "nl_NL", "tr": "tr_TR", "pl": "pl_PL", "uk": "uk_UA"}  # others: English style


@lru_cache(maxsize=4096)  # a till shows the same few amounts over and over; Babel is slow
def format_euro(cents: int, language: str = "nl") -> str:
    """Return "€ 1.234,56" (Dutch) or "€1,234.56" (English): Babel's format, exact decimals.

    Babel puts a no-break space after the Dutch "€"; a plain one is kept, as always shown.
    """
    locale = LOCALES.get(language, "en")
    amount = Decimal(int(cents)).scaleb(-2)
    text = format_currency(amount, "EUR", locale=locale).replace("\xa0", " ")
    return text.replace("EUR", "€")


def euros_text(cents: int, decimal: str = ",") -> str:
    """Return cents as a plain number for spreadsheets, e.g. 123456 -> "1234,56"."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    return f"{sign}{euros}{decimal}{rest:02d}"
