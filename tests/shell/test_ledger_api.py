"""The public ledger API, the receipt page and the ``kindpakket ledger`` commands."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from kindpakket.receipts import receipt_fields
from ledger import checkpoint as ckpt
from ledger import merkle, store
from tests.ledger.test_proofs import grow
from tests.ledger.test_proofs import rewrite_history as rewrite


def seed(app: Any, n: int = 9) -> None:
    """Write ``n`` entries into the app's database."""
    with Session(app.extensions["kindpakket_db"][0]) as session:
        grow(session, n)


def published_vkeys(client: Any) -> list[str]:
    """Return the checkpoint keys /api/v1/keys publishes, as vkey strings."""
    keys = client.get("/api/v1/keys").get_json()["keys"]
    return [k["vkey"] for k in keys if k["purpose"] == "checkpoint"]


def test_no_checkpoint_yet_is_a_404_with_a_code(client: Any) -> None:
    answer = client.get("/api/v1/ledger/checkpoints/latest")
    assert answer.status_code == 404
    assert answer.get_json()["error"]["code"] == "no_checkpoint"


def test_proof_of_a_new_entry_verifies_against_a_signed_checkpoint(app: Any, client: Any) -> None:
    seed(app, 9)
    answer = client.get("/api/v1/ledger/entries/7/proof")
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert (body["seq"], body["leaf_index"], body["tree_size"]) == (7, 6, 9)
    cp = ckpt.verify_checkpoint(
        body["checkpoint"], published_vkeys(client), app.config["LEDGER_ORIGIN"]
    )
    assert cp.size == 9 and base64.b64encode(cp.root).decode() == body["root"]
    leaf = merkle.leaf_hash(bytes.fromhex(body["entry_hash"]))
    merkle.check_inclusion(leaf, 6, 9, [bytes.fromhex(h) for h in body["proof"]], cp.root)
    latest = client.get("/api/v1/ledger/checkpoints/latest").get_json()
    assert latest["note"] == body["checkpoint"]
    assert client.get("/api/v1/ledger/checkpoints/9").get_json()["note"] == body["checkpoint"]
    assert client.get("/api/v1/ledger/checkpoints/8").status_code == 404


def test_entry_is_public_as_number_and_hash_only(app: Any, client: Any) -> None:
    seed(app, 4)
    body = client.get("/api/v1/ledger/entries/3").get_json()
    assert set(body) == {"seq", "hash", "verify_url"}
    assert body["verify_url"] == f"/receipt/3?hash={body['hash']}"
    assert client.get("/api/v1/ledger/entries/99").get_json()["error"]["code"] == "no_entry"


def test_consistency_between_two_checkpoints(app: Any, client: Any, cli: Any) -> None:
    seed(app, 5)
    assert cli("ledger", "checkpoint").exit_code == 0
    with Session(app.extensions["kindpakket_db"][0]) as session:
        grow(session, 6, first=False)
    made = cli("ledger", "checkpoint")
    assert made.exit_code == 0 and "\n11\n" in made.output
    old = client.get("/api/v1/ledger/checkpoints/5").get_json()
    new = client.get("/api/v1/ledger/checkpoints/11").get_json()
    proof = client.get("/api/v1/ledger/consistency?old=5&new=11").get_json()["proof"]
    assert merkle.verify_consistency(
        5,
        11,
        base64.b64decode(old["root"]),
        base64.b64decode(new["root"]),
        [bytes.fromhex(h) for h in proof],
    )
    bad = client.get("/api/v1/ledger/consistency?old=5&new=40")
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "bad_size"
    assert client.get("/api/v1/ledger/consistency?old=x&new=1").status_code == 422


def test_endpoints_are_in_the_openapi_file(client: Any) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in (
        "/api/v1/ledger/checkpoints/latest",
        "/api/v1/ledger/checkpoints/{size}",
        "/api/v1/ledger/entries/{seq}",
        "/api/v1/ledger/entries/{seq}/proof",
        "/api/v1/ledger/consistency",
        "/api/v1/keys",
    ):
        assert path in paths, path


def test_receipt_page_shows_the_entry_and_a_live_region(app: Any, client: Any) -> None:
    seed(app, 3)
    with Session(app.extensions["kindpakket_db"][0]) as session:
        entry = store.get_entry(session, 3)
    assert entry is not None
    fields = receipt_fields(entry)
    assert fields == {
        "ledger_seq": 3,
        "entry_hash": entry.hash,
        "verify_url": f"/receipt/3?hash={entry.hash}",
    }
    page = client.get(fields["verify_url"]).get_data(as_text=True)
    assert entry.hash[:16] in page and 'role="status"' in page and "receipt.js" in page
    wrong = client.get("/receipt/3?hash=" + "0" * 64).get_data(as_text=True)
    assert 'role="alert"' in wrong
    assert client.get("/receipt/77").status_code == 404


def test_cli_verify_checks_checkpoints_and_exports(app: Any, cli: Any, tmp_path: Path) -> None:
    seed(app, 8)
    made = cli("ledger", "checkpoint")
    assert made.exit_code == 0
    held = tmp_path / "held.note"
    held.write_text(made.output)
    ok = cli("ledger", "verify", "--checkpoint", str(held))
    assert ok.exit_code == 0, ok.output
    assert "1 checkpoints" in ok.output
    out = tmp_path / "export"
    assert cli("ledger", "export", str(out)).exit_code == 0
    offline = cli("ledger", "verify", "--from", str(out), "--checkpoint", str(held))
    assert offline.exit_code == 0, offline.output
    with Session(app.extensions["kindpakket_db"][0]) as session:
        rewrite(session, 4, 3)
    bad = cli("ledger", "verify")
    assert bad.exit_code == 1
    assert "checkpoint_root_mismatch" in bad.output
