"""Bank account numbers: the one place IBANs and BICs are read, checked and written (schwifty).

Pure: no Flask, no database. Every function raises ``ValueError`` (schwifty's, whose text
says what is wrong) for a number that is not valid.
"""

from __future__ import annotations

from schwifty import BIC, IBAN


def compact_iban(text: str) -> str:
    """Return the IBAN without spaces, upper case ("NL91ABNA0417164300"), or raise ValueError."""
    return str(IBAN(text or "").compact)


def format_iban(compact: str) -> str:
    """Return the IBAN in groups of four, as printed on bank cards (as given when invalid)."""
    try:
        return str(IBAN(compact).formatted)
    except ValueError:
        return compact


def canonical_bic(text: str) -> str:
    """Return the BIC in its canonical form, or raise ValueError."""
    return str(BIC(text))
