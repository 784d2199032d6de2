"""Strict reading of hashed entry bytes: exactly what the encoder writes, nothing else (pure).

Verification, ``get_entry`` and every other reader of stored bytes go through
:func:`parse_entry`, so what is shown is what was checked. It accepts a byte string only
when

* it is UTF-8 and JSON with no duplicate keys, no floats, no NaN or Infinity;
* the top level holds exactly the keys ``v seq prev kind ts postings meta idem`` with
  their types: ``v`` 1, ``seq`` a positive safe integer, ``prev`` 64 lowercase hex,
  ``kind`` matching ``KIND_RE``, ``ts`` in the form ``format_timestamp`` writes,
  ``postings`` a list of ``[account, amount]`` pairs (``ACCOUNT_RE``, safe integers),
  ``meta`` an object of the value domain ``check_value`` allows, ``idem`` null or a
  string of 1 to 160 characters;
* re-encoding the parsed value gives the very same bytes (RFC 8785 form: sorted keys, no
  white space, the one escaping the encoder uses).

:func:`parse_entry_fast` gives the same answers without the per-object hook; a property
test (tests/ledger/test_strict_properties.py) holds it to that.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ledger.encoding import (
    ACCOUNT_RE,
    FORMAT_VERSION,
    KIND_RE,
    MAX_SAFE_INT,
    EntryBody,
    Posting,
    check_value,
    encode_fields,
)
from ledger.fastcheck import TS_FORM, ts_ok

KEYS = frozenset({"v", "seq", "prev", "kind", "ts", "postings", "meta", "idem"})
MAX_IDEM = 160
_HEX64 = re.compile(r"[0-9a-f]{64}").fullmatch

_account_ok = ACCOUNT_RE.fullmatch
_kind_ok = KIND_RE.fullmatch


class EntryFormatError(ValueError):
    """Stored bytes that are not an entry as the encoder writes it; the message says why."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Build an object, refusing a key that appears twice."""
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise EntryFormatError(f"expected unique keys, found {key!r} twice")
            seen.add(key)
    return out


def _no_float(text: str) -> Any:
    raise EntryFormatError(f"expected integers only, found the number {text}")


def _no_constant(text: str) -> Any:
    raise EntryFormatError(f"expected integers only, found {text}")


_STRICT = json.JSONDecoder(
    object_pairs_hook=_no_duplicates, parse_float=_no_float, parse_constant=_no_constant
)
_PLAIN = json.JSONDecoder()


def _text(data: bytes) -> str:
    """Return ``data`` as UTF-8 text or raise EntryFormatError."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EntryFormatError(f"expected UTF-8, found {exc.reason} at byte {exc.start}") from None


def parse_entry(data: bytes) -> EntryBody:
    """Return the entry in ``data``, refusing anything the encoder would not have written.

    The reference parser: every rule is checked on its own, with a message saying what was
    expected and what was found.

    Args:
        data: stored entry bytes.

    Returns:
        The entry content.

    Raises:
        EntryFormatError: naming the first rule the bytes break.
    """
    try:
        raw = _STRICT.decode(_text(data))
    except EntryFormatError:
        raise
    except (ValueError, RecursionError) as exc:
        raise EntryFormatError(f"expected JSON, found {exc}") from None
    return _checked(raw, data)


def parse_entry_fast(data: bytes) -> EntryBody:
    """Return what :func:`parse_entry` returns, and refuse what it refuses, more quickly.

    Parses without the duplicate-key hook: a duplicate key, a float or a NaN can never
    re-encode to the same bytes (the encoder writes none of them), so the final byte
    comparison refuses them. The refusal message may be less specific than the reference's.

    Raises:
        EntryFormatError: when :func:`parse_entry` would raise it.
    """
    try:
        raw = _PLAIN.decode(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise EntryFormatError(f"expected JSON, found {exc}") from None
    return _checked(raw, data)


def _checked(raw: Any, data: bytes) -> EntryBody:
    """Check the parsed value's shape and domain, and that it re-encodes to ``data``."""
    if type(raw) is not dict:
        raise EntryFormatError(f"expected a JSON object, found {type(raw).__name__}")
    if raw.keys() != KEYS:
        missing, extra = sorted(KEYS - raw.keys()), sorted(raw.keys() - KEYS)
        raise EntryFormatError(
            f"expected the keys {sorted(KEYS)}, found {sorted(raw)} "
            f"(missing {missing}, extra {extra})"
        )
    v, seq, prev, kind, ts = raw["v"], raw["seq"], raw["prev"], raw["kind"], raw["ts"]
    if type(v) is not int or v != FORMAT_VERSION:
        raise EntryFormatError(f"expected format version {FORMAT_VERSION}, found {v!r}")
    if type(seq) is not int or not 1 <= seq <= MAX_SAFE_INT:
        raise EntryFormatError(f"expected a positive safe integer seq, found {seq!r}")
    if type(prev) is not str or not _HEX64(prev):
        raise EntryFormatError(f"expected prev as 64 lowercase hex digits, found {prev!r}")
    if type(kind) is not str or not _kind_ok(kind):
        raise EntryFormatError(f"expected a kind matching {KIND_RE.pattern}, found {kind!r}")
    _check_ts(ts)
    postings = _postings(raw["postings"])
    meta = raw["meta"]
    if type(meta) is not dict:
        raise EntryFormatError(f"expected meta as an object, found {type(meta).__name__}")
    try:
        check_value(meta)
    except RecursionError:
        raise EntryFormatError("expected metadata of modest depth, found too deep") from None
    except ValueError as exc:
        raise EntryFormatError(f"expected JSON-safe metadata, found {exc}") from None
    idem = raw["idem"]
    if idem is not None and (type(idem) is not str or not 1 <= len(idem) <= MAX_IDEM):
        raise EntryFormatError(f"expected idem null or 1-{MAX_IDEM} characters, found {idem!r}")
    try:
        again = encode_fields(seq, prev, kind, ts, postings, meta, idem)
    except UnicodeEncodeError:
        raise EntryFormatError("expected text, found a lone surrogate escape") from None
    except RecursionError:
        raise EntryFormatError("expected metadata of modest depth, found too deep") from None
    if again != data:
        raise EntryFormatError(
            f"expected the canonical bytes, found a different form{_diff(again, data)}"
        )
    return EntryBody(seq, prev, kind, ts, postings, meta, idem)


def _check_ts(ts: Any) -> None:
    """Refuse a timestamp not in ``format_timestamp`` form or not a real moment."""
    if type(ts) is not str or not TS_FORM(ts):
        raise EntryFormatError(f"expected ts like 2026-01-01T00:00:00.000000Z, found {ts!r}")
    if not ts_ok(ts):
        raise EntryFormatError(f"expected ts to be a real moment, found {ts!r}")


def _postings(value: Any) -> tuple[Posting, ...]:
    """Return the postings of a parsed entry, refusing any other shape."""
    if type(value) is not list:
        raise EntryFormatError(f"expected postings as a list, found {type(value).__name__}")
    out = []
    for leg in value:
        if type(leg) is not list or len(leg) != 2:
            raise EntryFormatError(f"expected a posting [account, amount], found {leg!r}")
        account, amount = leg
        if type(account) is not str or not _account_ok(account):
            raise EntryFormatError(f"expected an account name, found {account!r}")
        if type(amount) is not int or not -MAX_SAFE_INT <= amount <= MAX_SAFE_INT:
            raise EntryFormatError(f"expected a safe integer amount on {account}, found {amount!r}")
        out.append(Posting(account, amount))
    return tuple(out)


def _diff(expected: bytes, found: bytes) -> str:
    """Return where two byte strings first differ, for the message."""
    at = next((i for i, (a, b) in enumerate(zip(expected, found, strict=False)) if a != b), None)
    if at is None:
        at = min(len(expected), len(found))
    return f" at byte {at}: expected {expected[at : at + 12]!r}, found {found[at : at + 12]!r}"


__all__ = ["KEYS", "EntryFormatError", "parse_entry", "parse_entry_fast"]
