"""The SEPA Latin character set: which text a bank transfer can carry, and transliteration.

In the platform because both the shop side (a legal name must survive it) and the
municipality's SEPA files (names and descriptions are written in it) use it.
"""

from __future__ import annotations

import unicodedata

MAX_NAME = 70  # EPC rulebook limit for names

# The SEPA Latin character set of the EPC implementation guidelines.
_SEPA_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-?:().,'+ ")
_TRANSLIT = str.maketrans(
    {
        **dict.fromkeys('‘’“”´`"', "'"),
        **dict.fromkeys("–—_", "-"),
        **dict.fromkeys("[{", "("),
        **dict.fromkeys("]}", ")"),
        **{"&": "+", ";": ",", "@": "(at)", "€": "EUR", "ß": "ss", "Æ": "AE", "æ": "ae"},
        **{"Ø": "O", "ø": "o", "Œ": "OE", "œ": "oe", "Ł": "L", "ł": "l", "Đ": "D", "đ": "d"},
        **{"Þ": "Th", "þ": "th"},
    }
)


def to_sepa_text(text: str) -> str:
    """Transliterate free text to the SEPA Latin character set (ë -> e, & -> +)."""
    # Translate again after NFKD: compatibility forms such as a full-width & decompose to &.
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLIT)).translate(_TRANSLIT)
    kept = (ch if ch in _SEPA_CHARS else " " for ch in decomposed if not unicodedata.combining(ch))
    return " ".join("".join(kept).split())


def sepa_name(text: str) -> str:
    """Return a name as a SEPA file carries it: transliterated, at most 70 characters."""
    return to_sepa_text(text)[:MAX_NAME].strip()
