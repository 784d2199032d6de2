"""The public receipt page: one ledger entry, checked in the browser against a signed checkpoint.

A receipt link carries the entry's number and the hash the family or shop was given:
``/receipt/<seq>?hash=<hex>``. The page shows the entry and, on "Check", fetches the
inclusion proof and the signed checkpoint and verifies both in the browser (kpproof.js),
so it trusts the hash on the receipt, not the server's word.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from kindpakket.db import db
from kindpakket.errors import DomainError
from kindpakket.money import format_euro

bp = Blueprint("receipts", __name__)

HASH_RE = re.compile(r"^[0-9a-f]{64}$")
KIND_LABELS: dict[str, Any] = {
    "redemption": _l("Payment"),
    "refund": _l("Refund"),
    "voucher.issue": _l("Budget issued"),
    "fund.deposit": _l("Fund deposit"),
    "payout": _l("Payout to the shop"),
    "expiry": _l("Budget expired"),
}


def verify_url(seq: int, entry_hash: str | None = None) -> str:
    """Return the link to the public check of entry ``seq`` (with the hash on the receipt)."""
    return f"/receipt/{seq}" + (f"?hash={entry_hash}" if entry_hash else "")


def receipt_fields(entry: Any, entry_hash: str | None = None) -> dict[str, Any]:
    """Return the receipt fields of an appended entry (or of a ``seq`` and a hash).

    Args:
        entry: a ``ledger.store.Appended``, a ``(seq, hash)`` pair, or a sequence number.
        entry_hash: the hash when ``entry`` is a sequence number.

    Returns:
        ``{"ledger_seq", "entry_hash", "verify_url"}`` for API answers and pages.
    """
    if isinstance(entry, tuple):
        seq, digest = int(entry[0]), str(entry[1])
    elif isinstance(entry, int):
        seq, digest = entry, str(entry_hash)
    else:
        seq, digest = int(entry.seq), str(entry.hash)
    return {"ledger_seq": seq, "entry_hash": digest, "verify_url": verify_url(seq, digest)}


def _messages() -> dict[str, str]:
    """Return the texts the check script shows, in the page's language."""
    return {
        "checking": _("Checking…"),
        "verified": _("Verified"),
        "verified_detail": _(
            "This entry is in the public ledger: checkpoint of %(size)s entries, signed by "
            "the municipality."
        ),
        "failed": _("Not verified"),
        "hash_mismatch": _("The hash on your receipt differs from the ledger's entry."),
        "root_mismatch": _("The proof does not lead to the signed checkpoint."),
        "bad_proof_length": _("The proof has the wrong length."),
        "bad_signature": _("The checkpoint signature is not valid."),
        "unknown_key": _("The checkpoint is not signed by a known key."),
        "wrong_origin": _("The checkpoint belongs to another ledger."),
        "no_checkpoint": _("There is no signed checkpoint for this entry yet."),
        "network": _("The proof could not be fetched. Try again."),
        "other": _("The proof could not be checked."),
        "code": _("Error code"),
    }


@bp.get("/receipt/<int:seq>")
def receipt(seq: int) -> str:
    """Show one ledger entry with a button that checks it in the browser."""
    from ledger import store

    entry = store.get_entry(db.session, seq)
    if entry is None:
        raise DomainError("no_entry", _l("There is no ledger entry with this number."), status=404)
    given = (request.args.get("hash") or "").lower()
    expected = given if HASH_RE.match(given) else entry.hash
    amount = sum(p.amount for p in entry.postings if p.amount > 0)
    return render_template(
        "receipt.html",
        entry=entry,
        kind_label=KIND_LABELS.get(entry.kind, entry.kind),
        amount=format_euro(amount, str(get_locale() or "nl")),
        hash_parts=[expected[i : i + 16] for i in range(0, 64, 16)],
        expected_hash=expected,
        hash_differs=expected != entry.hash,
        origin=current_app.config["LEDGER_ORIGIN"],
        messages=_messages(),
    )
