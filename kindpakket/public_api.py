"""Public, read-only endpoints: signing keys and the ledger's head (more in the ledger API)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from kindpakket.appkeys import app_keyring
from kindpakket.db import db
from ledger import store

blp = Blueprint("public", __name__, url_prefix="/api/v1", description="Public keys and ledger")


class KeySchema(Schema):
    """A public key: token keys sign payment codes, checkpoint keys sign the ledger's tree."""

    kid = fields.String(required=True, metadata={"description": "key id, hex"})
    purpose = fields.String(required=True, metadata={"description": "token | checkpoint"})
    public_key = fields.String(required=True, metadata={"description": "Ed25519, base64"})
    not_before = fields.String(allow_none=True, metadata={"description": "ISO 8601, with zone"})
    not_after = fields.String(allow_none=True, metadata={"description": "ISO 8601, with zone"})
    name = fields.String(metadata={"description": "checkpoint keys: the log's origin"})
    vkey = fields.String(metadata={"description": "checkpoint keys: C2SP verifier key"})


class KeysSchema(Schema):
    """Every public key, old ones too."""

    keys = fields.List(fields.Nested(KeySchema), required=True)


class HeadSchema(Schema):
    """The ledger's size and the hash of its last entry."""

    size = fields.Integer(required=True)
    hash = fields.String(required=True, metadata={"description": "lowercase hex"})


@blp.route("/keys")
@blp.response(200, KeysSchema)
@blp.doc(security=[])
def keys() -> dict[str, Any]:
    """List the public keys (token and checkpoint) with their ids and validity."""
    from kindpakket.ledger_api import published_checkpoint_keys

    # Every checkpoint key ever used stays listed, so older checkpoints stay verifiable.
    return {"keys": app_keyring().public_keys("token") + published_checkpoint_keys()}


@blp.route("/ledger/head")
@blp.response(200, HeadSchema)
@blp.doc(security=[])
def ledger_head() -> dict[str, Any]:
    """Return the number of entries and the hash of the last one."""
    size, head_hash = store.head(db.session)
    return {"size": size, "hash": head_hash}
