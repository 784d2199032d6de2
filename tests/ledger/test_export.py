"""Export to plain files and verification with no database, against an earlier checkpoint."""

from __future__ import annotations

import base64
import hashlib
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
    assert not (out / "entries.jsonl").exists()
    lines = (out / "entries.ndjson").read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 20  # 19 entries, each ending in a newline
    stored = session.execute(text("SELECT body FROM ledger_entries ORDER BY seq")).scalars()
    assert lines[:-1] == [bytes(b) for b in stored]  # exactly the hashed bytes, nothing else
    report = verify_export(out, origin=ORIGIN)
    assert report.ok, report.problem
    assert (report.entries, report.checkpoints) == (19, 2)


def _lines(out: Path) -> list[bytes]:
    return (out / "entries.ndjson").read_bytes().splitlines()


def _write_lines(out: Path, lines: list[bytes]) -> None:
    (out / "entries.ndjson").write_bytes(b"".join(line + b"\n" for line in lines))


def test_changed_posting_in_the_export_is_caught(session: Session, tmp_path: Path) -> None:
    grow(session, 6)
    proofs.make_checkpoint(session, SIGNER_A, ORIGIN)
    session.commit()
    out = export(session, tmp_path / "x")
    lines = _lines(out)
    assert b'["voucher:1",-2],["merchant:1:payable",2]' in lines[3]
    # Still summing to zero: the next entry's link to these bytes breaks.
    lines[3] = lines[3].replace(b'-2],["merchant:1:payable",2]', b'-3],["merchant:1:payable",3]')
    _write_lines(out, lines)
    problem = verify_export(out).problem
    assert problem is not None and (problem.seq, problem.code) == (5, "broken_link")
    # Unbalanced: refused at the entry itself.
    lines[3] = lines[3].replace(b'"merchant:1:payable",3]', b'"merchant:1:payable",4]')
    _write_lines(out, lines)
    problem = verify_export(out).problem
    assert problem is not None and (problem.seq, problem.code) == (4, "unbalanced")


def test_changed_last_entry_fails_the_manifest_and_the_checkpoint(
    session: Session, tmp_path: Path
) -> None:
    grow(session, 6)
    proofs.make_checkpoint(session, SIGNER_A, ORIGIN)
    session.commit()
    out = export(session, tmp_path / "x")
    lines = _lines(out)
    lines[5] = lines[5].replace(b'-4],["merchant:1:payable",4]', b'-3],["merchant:1:payable",3]')
    _write_lines(out, lines)
    # The balances no longer match either; with them fixed, the manifest's head, and with
    # that fixed, the signed root still refuse the copy.
    accounts = json.loads((out / "accounts.json").read_text())
    for account in accounts["accounts"]:
        account["balance"] += {"voucher:1": 1, "merchant:1:payable": -1}.get(account["name"], 0)
    (out / "accounts.json").write_text(json.dumps(accounts))
    problem = verify_export(out).problem
    assert problem is not None and problem.code == "export_truncated"
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["head_hash"] = hashlib.sha256(lines[5]).hexdigest()
    (out / "manifest.json").write_text(json.dumps(manifest))
    problem = verify_export(out).problem
    assert problem is not None and problem.code == "checkpoint_root_mismatch"


def test_bytes_not_in_the_encoders_form_are_refused(session: Session, tmp_path: Path) -> None:
    grow(session, 4)
    session.commit()
    out = export(session, tmp_path / "x")
    lines = _lines(out)
    lines[2] = lines[2].replace(b'"kind":', b'"kind": ', 1)  # white space: not canonical
    _write_lines(out, lines)
    problem = verify_export(out).problem
    assert problem is not None and (problem.seq, problem.code) == (3, "bad_body")


def test_cut_off_last_line_is_refused(session: Session, tmp_path: Path) -> None:
    grow(session, 4)
    session.commit()
    out = export(session, tmp_path / "x")
    data = (out / "entries.ndjson").read_bytes()
    (out / "entries.ndjson").write_bytes(data[:-1])
    problem = verify_export(out).problem
    assert problem is not None and problem.code == "bad_export"
    assert "cut short" in problem.message


def test_format_1_export_is_refused_with_a_way_out(session: Session, tmp_path: Path) -> None:
    grow(session, 4)
    session.commit()
    out = export(session, tmp_path / "x")
    manifest = json.loads((out / "manifest.json").read_text())
    (out / "manifest.json").write_text(json.dumps({**manifest, "format": 1}))
    problem = verify_export(out).problem
    assert problem is not None and problem.code == "bad_export"
    assert "export the ledger again" in problem.message


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
    _write_lines(out, _lines(out)[:-1])
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
