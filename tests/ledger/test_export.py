"""Export to plain files and verification with no database, against an earlier checkpoint."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from ledger import proofs
from ledger.export import verify_export
from tests.ledger.test_proofs import ORIGIN, SIGNER_A, VK_A, grow, rewrite_history


def export(session: Session, directory: Path) -> Path:
    """Export the ledger with key A and return the directory."""
    proofs.export_ledger(session, directory, [VK_A])
    return directory


def test_export_verifies_offline(session: Session, tmp_path: Path) -> None:
    grow(session, 10)
    proofs.make_checkpoint(session, SIGNER_A, ORIGIN)
    grow(session, 7, first=False)
    proofs.make_checkpoint(session, SIGNER_A, ORIGIN)
    grow(session, 2, first=False)  # not yet under a checkpoint
    session.commit()
    out = export(session, tmp_path / "x")
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == [
        "10.note",
        "17.note",
        "consistency-10-17.json",
    ]
    first = json.loads((out / "entries.jsonl").read_text().splitlines()[0])
    assert set(first) == {
        "seq",
        "prev_hash",
        "hash",
        "kind",
        "body",
        "postings",
        "idem",
        "created_at",
    }
    report = verify_export(out, origin=ORIGIN)
    assert report.ok, report.problem
    assert (report.entries, report.checkpoints) == (19, 2)


def test_changed_posting_in_the_export_is_caught(session: Session, tmp_path: Path) -> None:
    grow(session, 6)
    proofs.make_checkpoint(session, SIGNER_A, ORIGIN)
    session.commit()
    out = export(session, tmp_path / "x")
    lines = (out / "entries.jsonl").read_text().splitlines()
    entry = json.loads(lines[3])
    entry["postings"][0][1] -= 1
    lines[3] = json.dumps(entry)
    (out / "entries.jsonl").write_text("\n".join(lines) + "\n")
    problem = verify_export(out).problem
    assert problem is not None and (problem.seq, problem.code) == (4, "postings_mismatch")


def test_forged_checkpoint_signature_in_the_export_is_caught(
    session: Session, tmp_path: Path
) -> None:
    grow(session, 6)
    proofs.make_checkpoint(session, SIGNER_A, ORIGIN)
    session.commit()
    out = export(session, tmp_path / "x")
    note_file = out / "checkpoints" / "6.note"
    body, _, sig = note_file.read_text().partition("\n\n")
    dash, name, blob = sig.strip().split(" ")
    raw = bytearray(base64.b64decode(blob))
    raw[20] ^= 0x01  # a bit inside the Ed25519 signature (after the 4-byte key id)
    note_file.write_text(f"{body}\n\n{dash} {name} {base64.b64encode(bytes(raw)).decode()}\n")
    problem = verify_export(out).problem
    assert problem is not None and problem.code == "checkpoint_bad_signature"


def test_truncated_export_is_caught(session: Session, tmp_path: Path) -> None:
    grow(session, 6)
    proofs.make_checkpoint(session, SIGNER_A, ORIGIN)
    session.commit()
    out = export(session, tmp_path / "x")
    lines = (out / "entries.jsonl").read_text().splitlines()
    (out / "entries.jsonl").write_text("\n".join(lines[:-1]) + "\n")
    problem = verify_export(out).problem
    assert problem is not None and problem.code in {"export_truncated", "balance_mismatch"}


def test_rewritten_history_with_resigned_checkpoints_fails_the_earlier_checkpoint(
    session: Session, tmp_path: Path
) -> None:
    grow(session, 12)
    held_by_auditor = proofs.make_checkpoint(session, SIGNER_A, ORIGIN).note
    session.commit()
    # The owner rewrites the past, throws the checkpoints away and signs anew.
    rewrite_history(session, 5, 2)
    session.execute(text("DELETE FROM ledger_checkpoints"))
    proofs.make_checkpoint(session, SIGNER_A, ORIGIN)
    session.commit()
    out = export(session, tmp_path / "x")
    assert verify_export(out).ok  # self-consistent on its own
    problem = verify_export(out, checkpoint=held_by_auditor).problem
    assert problem is not None and problem.code == "checkpoint_root_mismatch"


def test_copy_extends_an_earlier_checkpoint(session: Session, tmp_path: Path) -> None:
    grow(session, 5)
    earlier = proofs.make_checkpoint(session, SIGNER_A, ORIGIN).note
    grow(session, 20, first=False)
    proofs.make_checkpoint(session, SIGNER_A, ORIGIN)
    session.commit()
    report = verify_export(export(session, tmp_path / "x"), checkpoint=earlier)
    assert report.ok, report.problem
    assert report.entries == 25
