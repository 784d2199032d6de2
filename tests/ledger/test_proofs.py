"""Proofs from the stored tree, signed checkpoints, rotation and tampering against checkpoints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import nacl.signing
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from ledger import checkpoint as ckpt
from ledger import merkle, proofs, store
from ledger.encoding import GENESIS_HASH, decode
from ledger.merkle import MemoryTree, ProofError
from ledger.store import NewEntry
from tests.ledger.test_tamper import drop_guards

ORIGIN = "kindpakket.test/ledger"
KEY_A = nacl.signing.SigningKey(bytes(range(32)))
KEY_B = nacl.signing.SigningKey(bytes(range(32, 64)))
SIGNER_A = (ORIGIN, KEY_A)
SIGNER_B = (ORIGIN, KEY_B)
VK_A = ckpt.vkey(ORIGIN, KEY_A.verify_key)
VK_B = ckpt.vkey(ORIGIN, KEY_B.verify_key)


def grow(session: Session, n: int, *, first: bool = True) -> None:
    """Append ``n`` entries (opening accounts and funding on the first call) and commit."""
    if first:
        for name in ("bank:1", "fund:1", "merchant:1:payable"):
            store.open_account(session, name)
        store.open_account(session, "voucher:1", non_negative=True)
        store.append(session, "fund.deposit", [("bank:1", -(10**9)), ("fund:1", 10**9)])
        store.append(session, "voucher.issue", [("fund:1", -(10**8)), ("voucher:1", 10**8)])
        n -= 2
    store.append_many(
        session,
        [
            NewEntry("redemption", [("voucher:1", -(i + 1)), ("merchant:1:payable", i + 1)])
            for i in range(n)
        ],
    )
    session.commit()


def memory_tree(session: Session) -> MemoryTree:
    """Return an independent in-memory tree of the stored entry hashes."""
    hashes = session.execute(text("SELECT hash FROM ledger_entries ORDER BY seq")).scalars()
    return MemoryTree([merkle.leaf_hash(bytes.fromhex(h)) for h in hashes])


def test_roots_and_proofs_match_an_in_memory_tree(session: Session) -> None:
    grow(session, 37)
    tree = memory_tree(session)
    for size in range(38):
        assert proofs.tree_root(session, size) == tree.root(size)
    assert proofs.tree_root(session) == tree.root(37)
    for size in (1, 2, 5, 16, 17, 31, 37):
        for seq in range(1, size + 1):
            got = proofs.inclusion(session, seq, size)
            assert got.proof == tree.inclusion_proof(seq - 1, size)
            assert got.root == tree.root(size)
            leaf = merkle.leaf_hash(bytes.fromhex(got.entry_hash))
            merkle.check_inclusion(leaf, seq - 1, size, got.proof, got.root)
        for old in range(1, size + 1):  # RFC 9162: no proof from size 0
            assert proofs.consistency(session, old, size) == tree.consistency_proof(old, size)
    assert proofs.get_node(session, 0, 4) == tree.get_node(0, 4)
    assert proofs.get_node(session, 3, 1) == tree.get_node(3, 1)


@pytest.mark.parametrize(("seq", "size"), [(0, 5), (6, 5), (1, 99), (3, -1)])
def test_impossible_proofs_are_refused(session: Session, seq: int, size: int) -> None:
    grow(session, 10)
    with pytest.raises(ProofError):
        proofs.inclusion(session, seq, size)


def test_missing_consistency_sizes_are_refused(session: Session) -> None:
    grow(session, 4)
    with pytest.raises(ProofError) as info:
        proofs.consistency(session, 3, 9)
    assert info.value.code == "bad_size"
    with pytest.raises(ProofError):
        proofs.consistency(session, 4, 3)


def test_checkpoint_is_a_signed_note_of_the_root_and_idempotent(session: Session) -> None:
    grow(session, 9)
    made = proofs.make_checkpoint(session, SIGNER_A, ORIGIN)
    session.commit()
    assert made.created and made.size == 9
    cp = ckpt.verify_checkpoint(made.note, [VK_A], ORIGIN)
    assert (cp.size, cp.root) == (9, memory_tree(session).root(9))
    again = proofs.make_checkpoint(session, SIGNER_A, ORIGIN)
    assert not again.created and again.note == made.note
    assert [c.size for c in proofs.list_checkpoints(session)] == [9]
    grow(session, 4, first=False)
    later = proofs.make_checkpoint(session, SIGNER_A, ORIGIN)
    session.commit()
    assert later.created and later.size == 13
    proof = proofs.consistency(session, 9, 13)
    assert merkle.verify_consistency(9, 13, made.root, later.root, proof)
    report = proofs.verify_checkpoints(session, [VK_A], ORIGIN)
    assert report.ok, report.problem
    assert report.checkpoints == 2


def test_checkpoint_signed_before_rotation_still_verifies(session: Session) -> None:
    grow(session, 5)
    old = proofs.make_checkpoint(session, SIGNER_A, ORIGIN)
    grow(session, 3, first=False)
    new = proofs.make_checkpoint(session, SIGNER_B, ORIGIN)  # the key was rotated
    session.commit()
    assert ckpt.verify_checkpoint(old.note, [VK_A, VK_B]).size == 5
    assert ckpt.verify_checkpoint(new.note, [VK_A, VK_B]).size == 8
    assert proofs.verify_checkpoints(session, [VK_A, VK_B], ORIGIN).ok
    without_old = proofs.verify_checkpoints(session, [VK_B], ORIGIN)
    assert without_old.problem is not None
    assert without_old.problem.code == "checkpoint_unknown_key"


def test_checkpoint_with_changed_body_or_signature_fails() -> None:
    note = ckpt.sign_checkpoint(ckpt.Checkpoint(ORIGIN, 3, bytes(32)), ORIGIN, KEY_A)
    body, _, sig = note.partition("\n\n")
    changed_body = body.replace("\n3\n", "\n4\n") + "\n\n" + sig
    flipped = sig[:-3] + ("A" if sig[-3] != "A" else "B") + sig[-2:]
    for bad in (changed_body, body + "\n\n" + flipped):
        with pytest.raises(ckpt.CheckpointError) as info:
            ckpt.verify_checkpoint(bad, [VK_A])
        assert info.value.code in {"bad_signature", "bad_format"}
    assert ckpt.verify_checkpoint(note, [VK_A]).size == 3


def test_a_stored_note_with_a_changed_body_is_caught(session: Session) -> None:
    grow(session, 6)
    made = proofs.make_checkpoint(session, SIGNER_A, ORIGIN)
    session.commit()
    drop_guards(session)
    forged = made.note.replace(f"\n{made.size}\n", "\n5\n", 1)
    session.execute(text("UPDATE ledger_checkpoints SET note = :n"), {"n": forged})
    session.commit()
    problem = proofs.verify_checkpoints(session, [VK_A], ORIGIN).problem
    assert problem is not None and problem.code == "checkpoint_bad_signature"


def rewrite_history(session: Session, seq: int, new_amount: int) -> None:
    """Rewrite the whole chain with entry ``seq`` changed and every hash and node recomputed.

    This is what a database owner with the triggers off could do: replay every entry through
    the store's own append code, so the chain, the tree and the balances agree again.
    """
    drop_guards(session)
    rows = session.execute(text("SELECT seq, body FROM ledger_entries ORDER BY seq")).all()
    specs = []
    for number, body in rows:
        entry = decode(bytes(body))
        postings = [(p.account, p.amount) for p in entry.postings]
        if number == seq:
            postings = [(postings[0][0], -new_amount), (postings[1][0], new_amount)]
        specs.append(NewEntry(entry.kind, postings, entry.meta, entry.idempotency_key))
    for table in ("ledger_postings", "ledger_entries", "ledger_tree_nodes"):
        session.execute(text(f"DELETE FROM {table}"))
    session.execute(text("UPDATE ledger_balances SET balance = 0, last_seq = 0"))
    session.execute(
        text("UPDATE ledger_head SET seq = 0, hash = :g, frontier = :f"),
        {"g": GENESIS_HASH, "f": b""},
    )
    store.append_many(session, specs)
    session.commit()


def test_rewritten_and_rehashed_chain_is_caught_against_the_checkpoint(session: Session) -> None:
    grow(session, 12)
    made = proofs.make_checkpoint(session, SIGNER_A, ORIGIN)
    session.commit()
    rewrite_history(session, 7, 1)
    assert store.verify(session).ok  # the chain alone cannot tell
    assert proofs.tree_root(session, 12) != made.root
    problem = proofs.verify_checkpoints(session, [VK_A], ORIGIN).problem
    assert problem is not None and problem.code == "checkpoint_root_mismatch"
    with pytest.raises(proofs.CheckpointConflict):
        proofs.make_checkpoint(session, SIGNER_A, ORIGIN)


def test_maybe_checkpoint_after_n_entries_or_m_seconds(session: Session) -> None:
    grow(session, 5)
    now = datetime.now(UTC)
    assert proofs.maybe_checkpoint(session, SIGNER_A, ORIGIN, 10, 600, now=now) is None
    late = now + timedelta(seconds=601)
    first = proofs.maybe_checkpoint(session, SIGNER_A, ORIGIN, 10, 600, now=late)
    assert first is not None and first.size == 5
    session.commit()
    assert proofs.maybe_checkpoint(session, SIGNER_A, ORIGIN, 10, 600, now=late) is None
    grow(session, 9, first=False)
    assert proofs.maybe_checkpoint(session, SIGNER_A, ORIGIN, 10, 600, now=late) is None
    grow(session, 1, first=False)
    second = proofs.maybe_checkpoint(session, SIGNER_A, ORIGIN, 10, 600, now=late)
    assert second is not None and second.size == 15
    session.commit()
    grow(session, 1, first=False)
    in_time = late + timedelta(seconds=599)
    assert proofs.maybe_checkpoint(session, SIGNER_A, ORIGIN, 10, 600, now=in_time) is None
    overdue = late + timedelta(seconds=600)
    third = proofs.maybe_checkpoint(session, SIGNER_A, ORIGIN, 10, 600, now=overdue)
    assert third is not None and third.size == 16
