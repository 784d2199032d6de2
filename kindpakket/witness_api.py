"""Witness API under /api/v1/ledger: witnesses hand in cosignatures of our checkpoints.

A witness (C2SP tlog-witness, pull model: ``kindpakket witness run``) reads our signed
checkpoints and consistency proofs, co-signs each checkpoint that extends the last one it
co-signed, and POSTs the cosignature line here. Only keys in ``KINDPAKKET_WITNESS_VKEYS`` are
accepted, and only over the body of the checkpoint we stored; the checkpoint endpoints then
serve the note with the cosignatures appended. The call needs no session: the signature is
the authentication, so it is exempt from CSRF.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from kindpakket.audit import record_event
from kindpakket.db import db
from kindpakket.errors import DomainError
from kindpakket.security import csrf
from ledger import cosign_store, proofs
from ledger import witness as wit

blp = Blueprint(
    "witness_api",
    __name__,
    url_prefix="/api/v1/ledger",
    description="Witnesses: hand in cosignatures of checkpoints, list who co-signed",
)

_KEYS = "kindpakket_witness_keys"

_REFUSALS: dict[str, Any] = {  # code -> message for people
    cosign_store.NO_CHECKPOINT: _l("There is no checkpoint of this size."),
    wit.CO_BAD_FORMAT: _l("This is not a cosignature line."),
    wit.CO_UNKNOWN_KEY: _l("This witness key is not trusted here."),
    wit.CO_BAD_SIGNATURE: _l("The cosignature does not verify over this checkpoint."),
    wit.CO_FUTURE: _l("The cosignature is dated in the future."),
}


class CosignatureRefusal(DomainError):
    """A refused cosignature; its codes answer with their own statuses.

    Its own map, not the registry: ``bad_signature`` here is a witness's (403), while the
    wallet's ``bad_signature`` (a payment token) answers 400.
    """

    statuses: ClassVar[Mapping[str, int]] = {
        cosign_store.NO_CHECKPOINT: 404,
        wit.CO_BAD_FORMAT: 400,
        wit.CO_UNKNOWN_KEY: 403,
        wit.CO_BAD_SIGNATURE: 403,
        wit.CO_FUTURE: 400,
    }


class CosignatureIn(Schema):
    """A witness's cosignature of one stored checkpoint."""

    size = fields.Integer(
        required=True,
        validate=validate.Range(min=0, max=2**63 - 1),
        metadata={"description": "tree size of the co-signed checkpoint"},
    )
    cosignature = fields.String(
        required=True,
        validate=validate.Length(min=1, max=1000),
        metadata={"description": "the signature line: em dash, space, name, space, base64"},
    )


class CosignatureOut(Schema):
    """A stored cosignature."""

    size = fields.Integer()
    witness = fields.String(metadata={"description": "the witness's key name"})
    key_id = fields.String(metadata={"description": "4-byte key id, hex"})
    signed_at = fields.Integer(metadata={"description": "POSIX seconds, as the witness signed"})
    cosignature = fields.String(metadata={"description": "the signature line as stored"})
    created = fields.Boolean(metadata={"description": "false when it was already stored"})


class WitnessesOut(Schema):
    """The trusted witnesses and their cosignatures of the newest checkpoint."""

    vkeys = fields.List(fields.String(), metadata={"description": "trusted witness vkeys"})
    size = fields.Integer(allow_none=True, metadata={"description": "newest checkpoint size"})
    cosignatures = fields.List(fields.Nested(CosignatureOut))


def witness_keys() -> list[wit.CosignerKey]:
    """Return the configured witness keys (parsed once per app)."""
    keys = current_app.extensions.get(_KEYS)
    if keys is None:
        keys = [wit.parse_cosigner_vkey(v) for v in current_app.config["WITNESS_VKEYS"]]
        current_app.extensions[_KEYS] = keys
    return list(keys)


def _out(c: cosign_store.StoredCosignature, created: bool) -> dict[str, Any]:
    return {
        "size": c.size,
        "witness": c.witness,
        "key_id": c.key_id,
        "signed_at": c.signed_at,
        "cosignature": c.line,
        "created": created,
    }


@blp.route("/cosignatures", methods=["POST"])
@csrf.exempt
@blp.arguments(CosignatureIn())
@blp.response(200, CosignatureOut)
@blp.alt_response(403, description="unknown witness key or bad signature")
@blp.alt_response(404, description="no checkpoint of this size (no_checkpoint)")
@blp.doc(security=[])
def add_cosignature(args: dict[str, Any]) -> dict[str, Any]:
    """Store a trusted witness's cosignature of the checkpoint of ``size``."""
    try:
        stored = cosign_store.add_cosignature(
            db.session, args["size"], args["cosignature"], witness_keys()
        )
    except cosign_store.CosignatureRefused as exc:
        message = _REFUSALS.get(exc.code, _l("The cosignature was refused."))
        raise CosignatureRefusal(exc.code, message, detail=exc.message) from None
    if stored.created:  # a repeat by the same witness stores nothing, so records nothing
        record_event(
            db.session,
            "ledger.cosigned",
            actor=f"witness:{stored.witness}"[:80],
            subject=f"checkpoint:{stored.size}",
            after={"key_id": stored.key_id, "signed_at": stored.signed_at},
        )
    return _out(stored, stored.created)


@blp.route("/witnesses")
@blp.response(200, WitnessesOut)
@blp.doc(security=[])
def witnesses() -> dict[str, Any]:
    """List the trusted witnesses and who co-signed the newest checkpoint."""
    latest = proofs.latest_checkpoint(db.session)
    found = cosign_store.cosignatures_at(db.session, latest.size) if latest else []
    return {
        "vkeys": list(current_app.config["WITNESS_VKEYS"]),
        "size": latest.size if latest else None,
        "cosignatures": [_out(c, False) for c in found],
    }
