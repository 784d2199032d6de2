"""Public, read-only endpoints: signing keys and the ledger's head (more in the ledger API)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from kindpakket.appkeys import app_keyring
from kindpakket.db import db
from ledger import store

blp = Blueprint("public", __name__, url_prefix="/api/v1", description="Public keys and ledger")


@blp.route("/keys")
@blp.doc(security=[])
def keys() -> dict[str, Any]:
    """List the public keys (token and checkpoint) with their ids and validity."""
    from kindpakket.ledger_api import published_checkpoint_keys

    # Every checkpoint key ever used stays listed, so older checkpoints stay verifiable.
    return {"keys": app_keyring().public_keys("token") + published_checkpoint_keys()}


@blp.route("/ledger/head")
def ledger_head() -> dict[str, Any]:
    """Return the number of entries and the hash of the last one."""
    size, head_hash = store.head(db.session)
    return {"size": size, "hash": head_hash}
