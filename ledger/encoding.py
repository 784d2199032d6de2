"""Canonical bytes of a ledger entry and their hash (pure).

An entry is hashed as RFC 8785 (JCS) JSON: keys sorted, no white space, UTF-8. We restrict
values to strings, safe integers, booleans, null, lists and objects with ASCII keys, for
which Python's ``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)``
produces exactly the JCS form. The bytes are stored as they were hashed, so verification
never depends on re-serialising.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

FORMAT_VERSION = 1
GENESIS_HASH = "0" * 64
MAX_SAFE_INT = 2**53 - 1
ACCOUNT_RE = re.compile(r"^[a-z][a-z0-9_]*(:[A-Za-z0-9_.-]+)+\Z")
KIND_RE = re.compile(r"^[a-z][a-z0-9_.]{1,62}\Z")
RECEIPT_PREFIX_RE = re.compile(r"^[A-Z]{1,8}\Z")

_PLAIN = (str, bool, type(None))
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
_dumps = _ENCODER.encode
_string = json.encoder.encode_basestring  # the string form _ENCODER writes (ensure_ascii off)
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
# Strings that need no JSON escaping: the encoder writes them as "text" unchanged.
_PLAIN_TEXT = re.compile(r'[^"\\\x00-\x1f]*').fullmatch


class Posting(NamedTuple):
    """One leg of an entry: ``amount`` cents added to ``account`` (negative = taken)."""

    account: str
    amount: int


@dataclass(frozen=True, slots=True)
class EntryBody:
    """The hashed content of one ledger entry."""

    seq: int
    prev_hash: str
    kind: str
    timestamp: str
    postings: tuple[Posting, ...]
    meta: dict[str, Any]
    idempotency_key: str | None


def format_timestamp(moment: datetime) -> str:
    """Return ``moment`` as an ISO 8601 UTC string with microseconds and a ``Z``.

    Args:
        moment: an aware datetime (naive ones are taken as UTC).

    Returns:
        e.g. ``2026-11-23T12:00:00.000000Z``.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def receipt_text(prefix: str, seq: int) -> str:
    """Return the receipt number of entry ``seq`` ("B-000123": at least six digits)."""
    return f"{prefix}-{seq:06d}"


def _flat_and_plain(value: dict[Any, Any]) -> bool:
    """Return True for a flat object of ASCII keys and plain values (the common metadata)."""
    for k, v in value.items():
        if type(k) is not str or not k.isascii():
            return False
        t = type(v)
        if t is int:
            if not -MAX_SAFE_INT <= v <= MAX_SAFE_INT:
                return False
        elif t not in _PLAIN:
            return False
    return True


def check_value(value: Any, path: str = "meta") -> None:
    """Raise ``ValueError`` unless ``value`` is within the JCS-safe value domain.

    Args:
        value: a metadata value.
        path: where the value sits, for the error message.
    """
    if type(value) is dict and _flat_and_plain(value):
        return
    if value is None or isinstance(value, (bool, str)):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INT:
            raise ValueError(f"{path}: integer outside the safe range")
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            check_value(item, f"{path}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key.isascii():
                raise ValueError(f"{path}: keys must be ASCII strings")
            check_value(item, f"{path}.{key}")
        return
    raise ValueError(f"{path}: {type(value).__name__} is not allowed (no floats, no objects)")


def _dumps_fast(value: Any) -> str:
    """Return ``_dumps(value)`` through a C encoder built once per call, not per nested level."""
    if _c_make_encoder is None:
        return _dumps(value)
    encoder = _c_make_encoder({}, _ENCODER.default, _string, None, ":", ",", True, False, False)
    return "".join(encoder(value, 0))


def encode(body: EntryBody) -> bytes:
    """Return the canonical bytes of ``body``.

    Args:
        body: the entry content.

    Returns:
        UTF-8 JCS JSON bytes.
    """
    fast = _encode_plain(
        body.seq,
        body.prev_hash,
        body.kind,
        body.timestamp,
        body.postings,
        body.meta,
        body.idempotency_key,
    )
    return fast if fast is not None else _encode_generic(body)


def encode_fields(
    seq: int,
    prev_hash: str,
    kind: str,
    timestamp: str,
    postings: tuple[Posting, ...],
    meta: dict[str, Any],
    idempotency_key: str | None,
) -> bytes:
    """Return ``encode(EntryBody(...))`` of these fields without building the ``EntryBody``."""
    fast = _encode_plain(seq, prev_hash, kind, timestamp, postings, meta, idempotency_key)
    if fast is not None:
        return fast
    body = EntryBody(seq, prev_hash, kind, timestamp, postings, meta, idempotency_key)
    return _encode_generic(body)


def _encode_plain(
    seq: Any,
    prev: Any,
    kind: Any,
    ts: Any,
    postings: Any,
    meta: Any,
    key: Any,
) -> bytes | None:
    """Return the bytes ``_encode_generic`` gives, written directly (None: use the generic)."""
    template = entry_template(kind, ts, postings, meta, key)
    return None if template is None else fill_template(template, seq, prev)


class Template(NamedTuple):
    """An entry's canonical bytes but for its chain fields: ``head + prev + seq + tail``.

    Everything an entry holds apart from ``prev`` and ``seq`` is known before the chain
    lock is taken, so the store writes it there and fills in the two under the lock.
    """

    head: str  # '{"idem":...,"kind":...,"meta":...,"postings":[...],"prev":"'
    tail: str  # ',"ts":"...","v":1}'


def entry_template(kind: Any, ts: Any, postings: Any, meta: Any, key: Any) -> Template | None:
    """Return the direct form of an entry without ``prev`` and ``seq`` (None: use the generic).

    The keys of the top-level object are written in sorted order; only plain values (exact
    ``int`` and ``str`` types, strings without characters JSON escapes) take this path.

    Args:
        kind: entry kind.
        ts: timestamp text.
        postings: ``(account, cents)`` pairs.
        meta: metadata (already checked to be JSON-safe).
        key: idempotency key or None.

    Returns:
        The template, or None when a value needs the reference encoder.
    """
    if not (
        type(kind) is str
        and type(ts) is str
        and type(meta) is dict
        and _PLAIN_TEXT(kind)
        and _PLAIN_TEXT(ts)
    ):
        return None
    legs = []
    for account, amount in postings:
        if type(account) is not str or type(amount) is not int or not _PLAIN_TEXT(account):
            return None
        legs.append(f'["{account}",{amount}]')
    if key is None:
        idem = "null"
    elif type(key) is str:
        idem = _string(key)
    else:
        return None
    return Template(
        f'{{"idem":{idem},"kind":"{kind}","meta":{_dumps_fast(meta)},'
        f'"postings":[{",".join(legs)}],"prev":"',
        f',"ts":"{ts}","v":{FORMAT_VERSION}}}',
    )


def fill_template(template: Template, seq: Any, prev: Any) -> bytes | None:
    """Return the canonical bytes of ``template`` at ``seq`` after ``prev`` (None: generic).

    Args:
        template: from :func:`entry_template`.
        seq: the entry's sequence number (an exact ``int``).
        prev: the hash of the entry before (text JSON writes unescaped).

    Returns:
        The bytes ``encode`` writes for the entry, or None when ``seq`` or ``prev`` needs
        the reference encoder.
    """
    if type(seq) is not int or type(prev) is not str or not _PLAIN_TEXT(prev):
        return None
    return f'{template.head}{prev}","seq":{seq}{template.tail}'.encode()


def _encode_generic(body: EntryBody) -> bytes:
    """Return the canonical bytes of ``body`` through the JSON encoder (the reference form)."""
    return _dumps(
        {
            "v": FORMAT_VERSION,
            "seq": body.seq,
            "prev": body.prev_hash,
            "kind": body.kind,
            "ts": body.timestamp,
            "postings": [[p.account, p.amount] for p in body.postings],
            "meta": body.meta,
            "idem": body.idempotency_key,
        }
    ).encode()


def decode(data: bytes) -> EntryBody:
    """Parse canonical bytes back into an ``EntryBody``, as strictly as verification does.

    Args:
        data: bytes produced by :func:`encode`.

    Returns:
        The entry content.

    Raises:
        ValueError: (``ledger.strict.EntryFormatError``) when the bytes are not exactly
            what :func:`encode` writes for a version-1 entry.
    """
    from ledger.strict import parse_entry  # strict builds on this module

    return parse_entry(data)


def entry_hash(data: bytes) -> str:
    """Return the lowercase hex SHA-256 of canonical entry bytes.

    Args:
        data: canonical bytes.

    Returns:
        64 hex characters.
    """
    return hashlib.sha256(data).hexdigest()


def content_key(kind: str, postings: tuple[Posting, ...], meta: dict[str, Any]) -> str:
    """Return a stable string of what an idempotent request asked for.

    Args:
        kind: entry kind.
        postings: the postings.
        meta: metadata.

    Returns:
        Canonical JSON of kind, postings and metadata (not seq, time or chain).
    """
    return _dumps(
        {"kind": kind, "postings": [[p.account, p.amount] for p in postings], "meta": meta}
    )
