"""Trees are recomputed, never trusted: stored nodes and the head frontier are checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from ledger import checkpoint as ckpt
from ledger import merkle, proofs, store
from tests.ledger.test_proofs import ORIGIN, SIGNER_A, grow, rewrite_history
from tests.ledger.test_tamper import drop_guards


def problem_of(session: Session) -> tuple[str, str]:
    problem = store.verify(session).problem
    assert problem is not None, "the stored tree was trusted"
    return problem.code, problem.message


def test_honest_tree_passes_and_roots_are_recomputed(session: Session) -> None:
    grow(session, 21)
    report = store.verify(session, roots_at={1, 8, 21})
    assert report.ok, report.problem
    assert report.roots == {n: proofs.tree_root(session, n) for n in (1, 8, 21)}


def test_a_corrupted_tree_node_is_named(session: Session) -> None:
    grow(session, 21)
    drop_guards(session)
    session.execute(
        text("UPDATE ledger_tree_nodes SET hash = :h WHERE level = 2 AND idx = 3"),
        {"h": bytes(32)},
    )
    session.commit()
    code, message = problem_of(session)
    assert code == "node_mismatch"
    assert "tree node (level 2, index 3) should be" in message and "found 0000" in message


def test_a_missing_tree_node_is_named(session: Session) -> None:
    grow(session, 21)
    drop_guards(session)
    session.execute(text("DELETE FROM ledger_tree_nodes WHERE level = 1 AND idx = 4"))
    session.commit()
    assert problem_of(session) == ("node_missing", "tree node (level 1, index 4) is not stored")


def test_an_extra_tree_node_is_named(session: Session) -> None:
    grow(session, 21)
    session.execute(
        text("INSERT INTO ledger_tree_nodes (level, idx, hash) VALUES (3, 7, :h)"),
        {"h": bytes(32)},
    )
    session.commit()
    code, message = problem_of(session)
    assert code == "node_extra" and "(level 3, index 7)" in message


def test_a_corrupted_head_frontier_is_named(session: Session) -> None:
    grow(session, 21)  # 21 = 16 + 4 + 1: three frontier hashes
    drop_guards(session)
    blob = session.execute(text("SELECT frontier FROM ledger_head")).scalar_one()
    frontier = merkle.decode_frontier(bytes(blob))
    frontier[1] = bytes(32)
    session.execute(
        text("UPDATE ledger_head SET frontier = :f"), {"f": merkle.encode_frontier(frontier)}
    )
    session.commit()
    code, message = problem_of(session)
    assert code == "frontier_mismatch"
    assert "head frontier hash 1 (subtree level 2, index 4) should be" in message


def test_inclusion_is_checked_against_the_signed_root(session: Session) -> None:
    grow(session, 9)
    cp = proofs.make_checkpoint(session, SIGNER_A, ORIGIN)
    session.commit()
    good = proofs.checked_inclusion(session, 3, cp)
    assert good.root == cp.root and good.size == 9
    drop_guards(session)
    session.execute(
        text("UPDATE ledger_tree_nodes SET hash = :h WHERE level = 1 AND idx = 0"),
        {"h": bytes(32)},
    )
    session.commit()
    with pytest.raises(merkle.ProofError) as info:
        proofs.checked_inclusion(session, 3, cp)
    assert info.value.code == "tree_mismatch"
    assert cp.root.hex() in info.value.message


def test_the_api_serves_no_proof_the_signed_root_refutes(app: Any, client: Any) -> None:
    with Session(app.extensions["kindpakket_db"][0]) as session:
        grow(session, 9)
    assert client.get("/api/v1/ledger/entries/3/proof").status_code == 200
    with Session(app.extensions["kindpakket_db"][0]) as session:
        drop_guards(session)
        session.execute(
            text("UPDATE ledger_tree_nodes SET hash = :h WHERE level = 1 AND idx = 0"),
            {"h": bytes(32)},
        )
        session.commit()
    answer = client.get("/api/v1/ledger/entries/3/proof")
    assert answer.status_code != 200
    assert answer.get_json()["error"]["code"] == "tree_mismatch"


def test_consistency_from_size_zero_is_refused(session: Session) -> None:
    grow(session, 4)
    with pytest.raises(merkle.ProofError) as info:
        proofs.consistency(session, 0, 4)
    assert info.value.code == "bad_size"


def test_no_checkpoint_of_an_empty_ledger(session: Session, cli: Any) -> None:
    with pytest.raises(proofs.EmptyLedger):
        proofs.make_checkpoint(session, SIGNER_A, ORIGIN)
    session.rollback()
    refused = cli("ledger", "checkpoint")
    assert refused.exit_code == 1 and "no entries" in refused.output


def _keep(session: Session) -> tuple[list[Any], bytes]:
    nodes = session.execute(text("SELECT level, idx, hash FROM ledger_tree_nodes")).all()
    frontier = session.execute(text("SELECT frontier FROM ledger_head")).scalar_one()
    return [tuple(n) for n in nodes], bytes(frontier)


def _restore(session: Session, nodes: list[Any], frontier: bytes | None) -> None:
    session.execute(text("DELETE FROM ledger_tree_nodes"))
    for level, idx, node in nodes:
        session.execute(
            text("INSERT INTO ledger_tree_nodes (level, idx, hash) VALUES (:l, :i, :h)"),
            {"l": level, "i": idx, "h": bytes(node)},
        )
    if frontier is not None:
        session.execute(text("UPDATE ledger_head SET frontier = :f"), {"f": frontier})
    session.execute(text("DELETE FROM ledger_checkpoints"))  # hide the stored evidence
    session.commit()


@pytest.mark.parametrize("kept", ["nodes and frontier", "nodes", "nothing"])
def test_rewritten_history_fails_against_a_kept_checkpoint(
    app: Any, cli: Any, tmp_path: Path, kept: str
) -> None:
    with Session(app.extensions["kindpakket_db"][0]) as session:
        grow(session, 12)
    made = cli("ledger", "checkpoint")
    assert made.exit_code == 0, made.output
    held = tmp_path / "held.note"
    held.write_text(made.output)
    with Session(app.extensions["kindpakket_db"][0]) as session:
        grow(session, 4, first=False)
        nodes, frontier = _keep(session)
        rewrite_history(session, 7, 1)  # re-hashed: the chain alone is consistent again
        if kept == "nothing":
            session.execute(text("DELETE FROM ledger_checkpoints"))  # hide stored evidence
            session.commit()
        else:
            _restore(session, nodes, frontier if kept == "nodes and frontier" else None)
            # the stored tree still gives the held root: trusting it would pass the rewrite
            assert proofs.tree_root(session, 12) == ckpt.parse_note(made.output)[0].root
    bad = cli("ledger", "verify", "--checkpoint", str(held))
    assert bad.exit_code == 1, bad.output
    expected = {
        "nodes and frontier": "frontier_mismatch",
        "nodes": "node_mismatch",
        "nothing": "the ledger does not extend it",
    }[kept]
    assert expected in bad.output
