"""Public, read-only ledger API under /api/v1/ledger: checkpoints, entries and their proofs.

Anyone may fetch a signed checkpoint, the public part of an entry (sequence number, hash,
kind, time and postings on pseudonymous accounts; never the metadata), an inclusion proof
of an entry against a tree size, and a consistency proof between two sizes. Hashes in
proofs are lowercase hex; roots in notes are base64, as C2SP writes them.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from nacl.signing import SigningKey

from kindpakket.appkeys import app_keyring
from kindpakket.db import db
from kindpakket.errors import DomainError
from ledger import merkle, proofs, store
from ledger.checkpoint import vkey

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
    note = fields.String(metadata={"description": "C2SP signed note"})
    created_at = fields.DateTime()


class PostingSchema(Schema):
    """One leg of an entry."""

    account = fields.String(metadata={"description": "pseudonymous account id"})
    amount = fields.Integer(metadata={"description": "cents, negative = taken"})


class EntrySchema(Schema):
    """The public part of an entry."""

    seq = fields.Integer()
    hash = fields.String()
    kind = fields.String()
    timestamp = fields.String()
    amount = fields.Integer(metadata={"description": "cents moved (sum of the credits)"})
    postings = fields.List(fields.Nested(PostingSchema))
    verify_url = fields.String()


class ProofArgs(Schema):
    """Which tree the proof is against."""

    size = fields.Integer(
        validate=validate.Range(min=1),
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

    old = fields.Integer(required=True, validate=validate.Range(min=0))
    new = fields.Integer(required=True, validate=validate.Range(min=0))


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
    """Return the JSON of a stored checkpoint."""
    return {
        "size": cp.size,
        "root": proofs.b64(cp.root),
        "note": cp.note,
        "created_at": cp.created_at,
    }


def entry_json(entry: store.Appended) -> dict[str, Any]:
    """Return the public part of an entry (no metadata, no idempotency key)."""
    from kindpakket.receipts import verify_url

    return {
        "seq": entry.seq,
        "hash": entry.hash,
        "kind": entry.kind,
        "timestamp": entry.timestamp,
        "amount": sum(p.amount for p in entry.postings if p.amount > 0),
        "postings": [{"account": p.account, "amount": p.amount} for p in entry.postings],
        "verify_url": verify_url(entry.seq, entry.hash),
    }


def _not_found(code: str, message: Any) -> DomainError:
    """Return a 404 error with a fixed code."""
    return DomainError(code, message, status=404)


def _proof_json(
    session: Any, seq: int, size: int, cp: proofs.StoredCheckpoint | None
) -> dict[str, Any]:
    """Return the inclusion proof of entry ``seq`` in the tree of ``size`` entries.

    Under a checkpoint the proof is checked against its signed root before it is served.
    """
    note = cp.note if cp is not None else None
    try:
        if cp is not None:
            proof = proofs.checked_inclusion(session, seq, cp)
        else:
            proof = proofs.inclusion(session, seq, size)
    except merkle.ProofError as exc:
        raise DomainError(exc.code, _l("No proof for these numbers."), status=400) from None
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
@blp.response(200, EntrySchema)
@blp.doc(security=[])
def entry(seq: int) -> dict[str, Any]:
    """Return the public part of entry ``seq``."""
    found = store.get_entry(db.session, seq)
    if found is None:
        raise _not_found("no_entry", _l("There is no ledger entry with this number."))
    return entry_json(found)


@blp.route("/entries/<int:seq>/proof")
@blp.arguments(ProofArgs, location="query")
@blp.response(200, InclusionSchema)
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
@blp.arguments(ConsistencyArgs, location="query")
@blp.response(200, ConsistencySchema)
@blp.doc(security=[])
def consistency(args: dict[str, Any]) -> dict[str, Any]:
    """Return the consistency proof between tree sizes ``old`` and ``new``."""
    try:
        proof = proofs.consistency(db.session, args["old"], args["new"])
    except merkle.ProofError as exc:
        raise DomainError(exc.code, _l("No proof for these sizes."), status=400) from None
    return {"old": args["old"], "new": args["new"], "proof": [h.hex() for h in proof]}
