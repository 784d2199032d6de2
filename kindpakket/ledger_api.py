"""Public, read-only ledger API under /api/v1/ledger: checkpoints, entries and their proofs.

Anyone may fetch a signed checkpoint, an entry's number and hash, an inclusion proof of an
entry against a tree size, and a consistency proof between two sizes. Only a party to an
entry (see :mod:`kindpakket.receipts`) also gets the exact bytes that were hashed; amounts,
accounts, kinds and times per entry are never public. Hashes in proofs are lowercase hex;
roots in notes are base64, as C2SP writes them.
"""

from __future__ import annotations

import base64
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from nacl.signing import SigningKey

from kindpakket.appkeys import app_keyring
from kindpakket.db import db
from kindpakket.errors import DomainError
from kindpakket.openapi import Count, UtcDateTime
from kindpakket.receipts import LINK_PARTIES, reader_party, receipt_link, verify_url
from ledger import merkle, proofs, store
from ledger.checkpoint import vkey
from ledger.encoding import decode

blp = Blueprint(
    "ledger_api",
    __name__,
    url_prefix="/api/v1/ledger",
    description="Public ledger: signed checkpoints, entries, inclusion and consistency proofs",
)

HEX_LIST = fields.List(fields.String(), metadata={"description": "hashes, lowercase hex"})


class CheckpointSchema(Schema):
    """A signed checkpoint."""

    size = fields.Integer(metadata={"description": "tree size (number of entries)"})
    root = fields.String(metadata={"description": "Merkle root, base64"})
    note = fields.String(metadata={"description": "C2SP signed note, with witness cosignatures"})
    created_at = UtcDateTime()


class EntryArgs(Schema):
    """A receipt link's right to read the entry's bytes (optional)."""

    party = fields.String(
        validate=validate.OneOf(LINK_PARTIES), metadata={"description": "family | shop"}
    )
    t = fields.String(
        validate=validate.Length(min=1, max=64), metadata={"description": "receipt link token"}
    )


class EntrySchema(Schema):
    """An entry: number and hash for everyone; the hashed bytes for its parties."""

    seq = fields.Integer()
    hash = fields.String(metadata={"description": "SHA-256 of the entry's bytes, hex"})
    verify_url = fields.String()
    party = fields.String(
        metadata={"description": "only for a party: family | shop | municipality"}
    )
    entry_bytes = fields.String(
        data_key="bytes",
        metadata={"description": "only for a party: the exact bytes that were hashed, base64"},
    )


class ProofArgs(Schema):
    """Which tree the proof is against."""

    size = Count(
        1,
        metadata={"description": "tree size; default: the newest checkpoint"},
    )


class InclusionSchema(Schema):
    """Inclusion proof of an entry, with the checkpoint of that tree size."""

    seq = fields.Integer()
    entry_hash = fields.String()
    leaf_index = fields.Integer()
    tree_size = fields.Integer()
    proof = HEX_LIST
    root = fields.String(metadata={"description": "base64"})
    checkpoint = fields.String(allow_none=True, metadata={"description": "signed note"})


class ConsistencyArgs(Schema):
    """Two tree sizes."""

    old = Count(0, required=True)
    new = Count(0, required=True)


class ConsistencySchema(Schema):
    """Consistency proof between two tree sizes."""

    old = fields.Integer()
    new = fields.Integer()
    proof = HEX_LIST


# --- keys ----------------------------------------------------------------------------------


def checkpoint_signer() -> tuple[str, SigningKey]:
    """Return ``(key name, signing key)`` for checkpoints, making a first key if needed."""
    ring = app_keyring()
    ring.ensure("checkpoint")
    _, key = ring.signing_key("checkpoint")
    return current_app.config["LEDGER_ORIGIN"], key


def checkpoint_vkeys() -> list[str]:
    """Return every checkpoint key ever used (old ones too), as vkey strings."""
    origin = current_app.config["LEDGER_ORIGIN"]
    return [vkey(origin, k.public_key) for k in app_keyring().list() if k.purpose == "checkpoint"]


def published_checkpoint_keys() -> list[dict[str, Any]]:
    """Return the checkpoint keys for /api/v1/keys: name, vkey, public key and validity."""
    origin = current_app.config["LEDGER_ORIGIN"]
    return [
        {**k.public_dict(), "name": origin, "vkey": vkey(origin, k.public_key)}
        for k in app_keyring().list()
        if k.purpose == "checkpoint"
    ]


# --- answers -------------------------------------------------------------------------------


def checkpoint_json(cp: proofs.StoredCheckpoint) -> dict[str, Any]:
    """Return the JSON of a stored checkpoint, its note with the witnesses' cosignatures."""
    from ledger.cosign_store import cosigned_note

    return {
        "size": cp.size,
        "root": proofs.b64(cp.root),
        "note": cosigned_note(db.session, cp),
        "created_at": cp.created_at,
    }


def entry_json(seq: int, entry_hash: str, data: bytes, party: str | None) -> dict[str, Any]:
    """Return what ``party`` (None: the public) may read of an entry."""
    if party is None:
        return {"seq": seq, "hash": entry_hash, "verify_url": verify_url(seq, entry_hash)}
    return {
        "seq": seq,
        "hash": entry_hash,
        "verify_url": receipt_link(seq, entry_hash, party if party in LINK_PARTIES else None),
        "party": party,
        "entry_bytes": base64.b64encode(data).decode(),
    }


def _accounts(data: bytes) -> frozenset[str]:
    """Return the account names of an entry's bytes (none when they do not decode)."""
    try:
        return frozenset(p.account for p in decode(data).postings)
    except (ValueError, TypeError, KeyError):
        return frozenset()


def _not_found(code: str, message: Any) -> DomainError:
    """Return a 404 error with a fixed code."""
    return DomainError(code, message)


def _note(stored: proofs.StoredCheckpoint | None) -> str | None:
    """Return the note of a stored checkpoint with its witnesses' cosignatures, or None."""
    from ledger.cosign_store import cosigned_note

    return None if stored is None else cosigned_note(db.session, stored)


def _proof_json(
    session: Any, seq: int, size: int, cp: proofs.StoredCheckpoint | None
) -> dict[str, Any]:
    """Return the inclusion proof of entry ``seq`` in the tree of ``size`` entries.

    Under a checkpoint the proof is checked against its signed root before it is served.
    """
    note = _note(cp)
    try:
        if cp is not None:
            proof = proofs.checked_inclusion(session, seq, cp)
        else:
            proof = proofs.inclusion(session, seq, size)
    except merkle.ProofError as exc:
        raise DomainError(exc.code, _l("No proof for these numbers.")) from None
    return {
        "seq": seq,
        "entry_hash": proof.entry_hash,
        "leaf_index": seq - 1,
        "tree_size": proof.size,
        "proof": [h.hex() for h in proof.proof],
        "root": proofs.b64(proof.root),
        "checkpoint": note,
    }


# --- routes --------------------------------------------------------------------------------


@blp.route("/checkpoints/latest")
@blp.response(200, CheckpointSchema)
@blp.alt_response(404, description="no checkpoint yet (no_checkpoint)")
@blp.doc(security=[])
def latest_checkpoint() -> dict[str, Any]:
    """Return the newest signed checkpoint."""
    cp = proofs.latest_checkpoint(db.session)
    if cp is None:
        raise _not_found("no_checkpoint", _l("There is no checkpoint yet."))
    return checkpoint_json(cp)


@blp.route("/checkpoints/<int:size>")
@blp.response(200, CheckpointSchema)
@blp.doc(security=[])
def checkpoint_by_size(size: int) -> dict[str, Any]:
    """Return the signed checkpoint of tree size ``size``."""
    cp = proofs.checkpoint_at(db.session, size)
    if cp is None:
        raise _not_found("no_checkpoint", _l("There is no checkpoint of this size."))
    return checkpoint_json(cp)


@blp.route("/entries/<int:seq>")
@blp.arguments(EntryArgs(), location="query")
@blp.response(200, EntrySchema)
@blp.doc(security=[])
def entry(args: dict[str, Any], seq: int) -> Any:
    """Return entry ``seq``: number and hash; also its hashed bytes for a party to it.

    A party is the logged-in family, shop or municipality staff of the entry, or whoever
    holds a receipt link (``party`` and ``t`` from the link).
    """
    found = store.get_entry_bytes(db.session, seq)
    if found is None:
        raise _not_found("no_entry", _l("There is no ledger entry with this number."))
    entry_hash, data = found
    party = reader_party(
        db.session, seq, entry_hash, _accounts(data), args.get("party"), args.get("t")
    )
    # Who may read depends on the cookie and the link: no shared cache may keep an answer.
    headers = {"Cache-Control": "private, no-store", "Vary": "Cookie"}
    return entry_json(seq, entry_hash, data, party), 200, headers


@blp.route("/entries/<int:seq>/proof")
@blp.arguments(ProofArgs(), location="query")
@blp.response(200, InclusionSchema)
@blp.alt_response(400, description="no proof for these numbers")
@blp.doc(security=[])
def entry_proof(args: dict[str, Any], seq: int) -> dict[str, Any]:
    """Return the inclusion proof of entry ``seq`` and the signed checkpoint it leads to."""
    if store.get_entry(db.session, seq) is None:
        raise _not_found("no_entry", _l("There is no ledger entry with this number."))
    size = args.get("size")
    if size is not None:
        stored = proofs.checkpoint_at(db.session, size)
        return _proof_json(db.session, seq, size, stored)
    latest = proofs.latest_checkpoint(db.session)
    if latest is not None and latest.size >= seq:
        return _proof_json(db.session, seq, latest.size, latest)
    # The entry is newer than every checkpoint: sign one now, in a write transaction of its
    # own (this request's is a reader). Bounded: at most one checkpoint per entry appended.
    with db.transaction() as session:
        made = proofs.make_checkpoint(
            session, checkpoint_signer(), current_app.config["LEDGER_ORIGIN"]
        )
        return _proof_json(session, seq, made.size, made)


@blp.route("/consistency")
@blp.arguments(ConsistencyArgs(), location="query")
@blp.response(200, ConsistencySchema)
@blp.alt_response(400, description="no proof for these sizes")
@blp.doc(security=[])
def consistency(args: dict[str, Any]) -> dict[str, Any]:
    """Return the consistency proof between tree sizes ``old`` and ``new``."""
    try:
        proof = proofs.consistency(db.session, args["old"], args["new"])
    except merkle.ProofError as exc:
        raise DomainError(exc.code, _l("No proof for these sizes.")) from None
    return {"old": args["old"], "new": args["new"], "proof": [h.hex() for h in proof]}
