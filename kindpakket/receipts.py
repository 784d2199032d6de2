"""Receipts: who may read an entry's hashed bytes, the links that carry that right, the page.

Who sees what (README, "What each reader can learn"):

* Anyone gets an entry's number and hash, the signed checkpoints and the proofs; never an
  amount, account, kind or time, because a voucher account links one child's payments.
* A party to an entry also gets the exact bytes that were hashed, so its browser can check
  SHA-256(bytes) = entry hash and read amount, shop, time and kind from those bytes. A party
  is either logged in (the actor packages say, through the checks registered here, whether
  the logged-in user is the family of a voucher, the shop of a payable account or staff of
  the municipality of a fund), or holds a receipt link.
* A receipt link ``/receipt/<seq>?hash=<hex>&party=family&t=<token>`` carries that right, so
  a family can show its receipt to someone without logging them in. The token is an HMAC
  over party, number and hash with a key derived from the app secret: nothing is stored, a
  GET stays a read, any app server (or replica) checks it, and it cannot be turned into a
  token for another entry or another party. Rotating the app secret withdraws every link.
"""

from __future__ import annotations

import base64
import hmac
import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from hashlib import sha256
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import Session

from kindpakket.db import db
from kindpakket.errors import DomainError

bp = Blueprint("receipts", __name__)

HASH_RE = re.compile(r"^[0-9a-f]{64}$")
# Parties a receipt link may name; municipality staff and auditors read through their login
# or the export.
LINK_PARTIES = ("family", "shop")
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{22}$")
KIND_LABELS: dict[str, Any] = {
    "redemption": _l("Payment"),
    "refund": _l("Refund"),
    "voucher.issue": _l("Budget issued"),
    "fund.deposit": _l("Fund deposit"),
    "payout": _l("Payout to the shop"),
    "expiry": _l("Budget expired"),
}
# check(session, logged-in user, account names of the entry) -> party name or None
PartyCheck = Callable[[Session, Any, frozenset[str]], str | None]
_CHECKS = "kindpakket_party_checks"


def init_parties(app: Flask, checks: Iterable[PartyCheck]) -> None:
    """Register how the actor packages recognise a logged-in party to an entry."""
    app.extensions[_CHECKS] = tuple(checks)


# --- links ---------------------------------------------------------------------------------


def _link_key() -> bytes:
    """Return the HMAC key of receipt links, derived from the app secret."""
    return _derived_key(str(current_app.config["SECRET_KEY"]))


@lru_cache(maxsize=4)
def _derived_key(secret: str) -> bytes:
    """Derive the link key once per secret: every payment's answer carries a receipt link."""
    return hmac.new(secret.encode(), b"kindpakket receipt links v1", sha256).digest()


def link_token(seq: int, entry_hash: str, party: str) -> str:
    """Return the token that lets a receipt link of ``party`` read entry ``seq``'s bytes."""
    message = f"{party}\n{seq}\n{entry_hash}".encode()
    mac = hmac.new(_link_key(), message, sha256).digest()[:16]  # 128 bits
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def token_valid(seq: int, entry_hash: str, party: str, token: str) -> bool:
    """Return True when ``token`` is the link token of ``party`` for this entry."""
    if party not in LINK_PARTIES or not TOKEN_RE.match(token):
        return False
    return hmac.compare_digest(link_token(seq, entry_hash, party), token)


def receipt_link(seq: int, entry_hash: str, party: str | None = None) -> str:
    """Return the receipt link of entry ``seq``; with ``party``, one that shows its contents."""
    query = {"hash": entry_hash}
    if party is not None:
        query |= {"party": party, "t": link_token(seq, entry_hash, party)}
    return f"/receipt/{seq}?{urlencode(query)}"


def verify_url(seq: int, entry_hash: str | None = None) -> str:
    """Return the public link to the check of entry ``seq`` (hash and proof only)."""
    return f"/receipt/{seq}" + (f"?hash={entry_hash}" if entry_hash else "")


def receipt_fields(
    entry: Any, entry_hash: str | None = None, party: str | None = None
) -> dict[str, Any]:
    """Return the receipt fields of an appended entry (or of a ``seq`` and a hash).

    Args:
        entry: a ``ledger.store.Appended``, a ``(seq, hash)`` pair, or a sequence number.
        entry_hash: the hash when ``entry`` is a sequence number.
        party: ``family`` or ``shop`` for a link that shows the contents to whoever holds
            it; None for the public link (hash and proof only).

    Returns:
        ``{"ledger_seq", "entry_hash", "verify_url"}`` for API answers and pages.
    """
    if isinstance(entry, tuple):
        seq, digest = int(entry[0]), str(entry[1])
    elif isinstance(entry, int):
        seq, digest = entry, str(entry_hash)
    else:
        seq, digest = int(entry.seq), str(entry.hash)
    url = receipt_link(seq, digest, party) if party else verify_url(seq, digest)
    return {"ledger_seq": seq, "entry_hash": digest, "verify_url": url}


# --- who reads -----------------------------------------------------------------------------


def reader_party(
    session: Session,
    seq: int,
    entry_hash: str,
    accounts: frozenset[str],
    party: str | None,
    token: str | None,
) -> str | None:
    """Return which party to entry ``seq`` the reader is, or None for the public.

    A link token decides when one is given (a wrong one is an error, not the public
    answer, so a damaged link is noticed); otherwise the logged-in user, if any.
    """
    if token:
        if not token_valid(seq, entry_hash, party or "", token):
            raise DomainError(
                "receipt_link_invalid",
                _l("This receipt link is not valid. Ask for the link again."),
            )
        return party
    if not getattr(current_user, "is_authenticated", False) or not accounts:
        return None
    for check in current_app.extensions.get(_CHECKS, ()):
        found = check(session, current_user, accounts)
        if found:
            return found
    return None


# --- the page ------------------------------------------------------------------------------


def _messages() -> dict[str, Any]:
    """Return the texts the check script shows, in the page's language."""
    return {
        "checking": _("Checking…"),
        "verified": _("Verified"),
        "verified_detail": _(
            "This entry is in the public ledger: checkpoint of %(size)s entries, signed by "
            "the municipality."
        ),
        "contents_proven": _(
            "Amount, shop, time and kind above are read from the entry's own bytes, whose "
            "SHA-256 is the entry hash."
        ),
        "hash_only": _(
            "Only the family and the shop of this entry (and the municipality) see its "
            "amount, shop and time. This check proves only that the entry hash is in the "
            "ledger."
        ),
        "failed": _("Not verified"),
        "hash_mismatch": _("The hash on your receipt differs from the ledger's entry."),
        "bytes_mismatch": _(
            "The entry's bytes sent by the server do not match its hash. No amount on this "
            "page is proven."
        ),
        "bad_bytes": _("The entry's bytes could not be read."),
        "receipt_link_invalid": _("This receipt link is not valid. Ask for the link again."),
        "root_mismatch": _("The proof does not lead to the signed checkpoint."),
        "bad_proof_length": _("The proof has the wrong length."),
        "bad_signature": _("The checkpoint signature is not valid."),
        "unknown_key": _("The checkpoint is not signed by a known key."),
        "wrong_origin": _("The checkpoint belongs to another ledger."),
        "no_checkpoint": _("There is no signed checkpoint for this entry yet."),
        "network": _("The proof could not be fetched. Try again."),
        "other": _("The proof could not be checked."),
        "code": _("Error code"),
        "witnesses": _("Co-signed by these witnesses (names as written in the checkpoint):"),
        "no_witnesses": _("No witness has co-signed this checkpoint yet."),
        "first_visit": _(
            "This browser now keeps this checkpoint (%(size)s entries) to compare with on your "
            "next visit."
        ),
        "consistent": _(
            "The ledger only grew since your last visit (from %(old)s to %(new)s entries): "
            "checked with a consistency proof."
        ),
        "rewritten": _("The ledger was rewritten since your last visit."),
        "rewritten_detail": _(
            "The checkpoint this browser kept (%(old)s entries) is not part of the current "
            "ledger. Keep this page and tell the municipality."
        ),
        "history_unchecked": _("Could not compare with the checkpoint of your last visit."),
        "kinds": {key: str(label) for key, label in KIND_LABELS.items()},
    }


@bp.app_template_global("receipt_link")
def _receipt_link_global(seq: int, entry_hash: str, party: str | None = None) -> str:
    """Let templates write receipt links (``receipt_link(seq, hash, "shop")``)."""
    return receipt_link(seq, entry_hash, party)


@bp.get("/receipt/<int:seq>")
def receipt(seq: int) -> str:
    """Show one ledger entry's receipt; the browser fetches, checks and shows its contents."""
    from ledger import store

    found = store.get_entry_bytes(db.session, seq)
    if found is None:
        raise DomainError("no_entry", _l("There is no ledger entry with this number."))
    entry_hash = found[0]
    given = (request.args.get("hash") or "").lower()
    expected = given if HASH_RE.match(given) else entry_hash
    party = request.args.get("party", "")
    token = request.args.get("t", "")
    link = {"party": party, "t": token} if party in LINK_PARTIES and TOKEN_RE.match(token) else {}
    return render_template(
        "receipt.html",
        seq=seq,
        hash_parts=[expected[i : i + 16] for i in range(0, 64, 16)],
        expected_hash=expected,
        hash_differs=expected != entry_hash,
        entry_url=url_for("ledger_api.entry", seq=seq, **link),
        origin=current_app.config["LEDGER_ORIGIN"],
        messages=_messages(),
    )
