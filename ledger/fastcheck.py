"""A quick "yes" for entries whose hashed bytes are exactly the encoding of their columns (pure).

The strict check (:func:`ledger.verify.check_entry_strict`) parses the bytes and compares
every field with its column. Nearly every entry can be settled more cheaply: write the
bytes the encoder would produce from the columns, leaving out the metadata, and compare;
then check that the metadata between them is a flat object in canonical form. When every
column is in the encoder's domain (checked here) and both comparisons hold, the bytes are
the encoding of the columns, so the strict check would accept them too.

This check only ever answers True ("certainly fine") or False ("ask the strict check");
it never refuses on its own. tests/ledger/test_strict_properties.py holds it to that on
honest and hostile inputs alike.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

from ledger.encoding import ACCOUNT_RE, FORMAT_VERSION, KIND_RE, MAX_SAFE_INT

if TYPE_CHECKING:
    from ledger.verify import StoredEntry

MAX_IDEM = 160
_HEX64 = re.compile(r"[0-9a-f]{64}").fullmatch
TS_FORM = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z").fullmatch
# Text the encoder writes unescaped; plain ASCII keys without quote or backslash.
_PLAIN_TEXT = re.compile(r'[^"\\\x00-\x1f]*').fullmatch
_KEY = r'"[\x20\x21\x23-\x5b\x5d-\x7e]*"'
_VALUE = r'(?:null|true|false|0|-?[1-9][0-9]{0,14}|"[^"\\\x00-\x1f]*")'
_FLAT_META = re.compile(rf"\{{\}}|\{{{_KEY}:{_VALUE}(?:,{_KEY}:{_VALUE})*\}}").fullmatch
_META_KEYS = re.compile(r'[{,]"([\x20\x21\x23-\x5b\x5d-\x7e]*)":').findall


def ts_ok(ts: str) -> bool:
    """Return True for a timestamp in the form ``format_timestamp`` writes, of a real moment."""
    if not TS_FORM(ts):
        return False
    try:
        datetime.fromisoformat(ts[:-1])
    except ValueError:
        return False
    return True


class FastCheck:
    """Callable ``(entry, prev hash) -> bool``; remembers names and times already checked."""

    __slots__ = ("_accounts", "_kinds", "_ts")

    def __init__(self) -> None:
        self._accounts: set[str] = set()
        self._kinds: set[str] = set()
        self._ts = ""

    def __call__(self, e: StoredEntry, prev: str) -> bool:
        """Return True only when ``e.body`` is the encoding of ``e``'s columns and ``prev``."""
        try:
            return self._check(e, prev)
        except (ValueError, TypeError, UnicodeError):  # odd shapes: let the strict check say
            return False

    def _check(self, e: StoredEntry, prev: str) -> bool:
        seq, kind, ts, idem = e.seq, e.kind, e.created_at, e.idempotency_key
        if type(seq) is not int or not 1 <= seq <= MAX_SAFE_INT or not _HEX64(prev):
            return False
        if kind not in self._kinds:
            if type(kind) is not str or not KIND_RE.fullmatch(kind):
                return False
            self._kinds.add(kind)
        if ts != self._ts:
            if type(ts) is not str or not ts_ok(ts):
                return False
            self._ts = ts
        if idem is None:
            idem_json = "null"
        elif type(idem) is str and 1 <= len(idem) <= MAX_IDEM and _PLAIN_TEXT(idem):
            idem_json = f'"{idem}"'
        else:
            return False
        accounts = self._accounts
        legs = []
        for account, amount in e.postings:
            if type(amount) is not int or not -MAX_SAFE_INT <= amount <= MAX_SAFE_INT:
                return False
            if account not in accounts:
                if type(account) is not str or not ACCOUNT_RE.fullmatch(account):
                    return False
                accounts.add(account)
            legs.append(f'["{account}",{amount}]')
        prefix = f'{{"idem":{idem_json},"kind":"{kind}","meta":'.encode()
        suffix = (
            f',"postings":[{",".join(legs)}],"prev":"{prev}","seq":{seq},"ts":"{ts}",'
            f'"v":{FORMAT_VERSION}}}'
        ).encode()
        body = e.body
        end = len(body) - len(suffix)
        if not (
            type(body) is bytes
            and end > len(prefix)
            and body.startswith(prefix)
            and body.endswith(suffix)
        ):
            return False
        meta = body[len(prefix) : end].decode("utf-8")
        if not _FLAT_META(meta):
            return False
        keys = _META_KEYS(meta)
        return keys == sorted(set(keys))


__all__ = ["FastCheck", "ts_ok"]
