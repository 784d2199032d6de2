"""An exported ledger as plain files, and its verification with no database (pure).

Layout of an export directory (format 2)::

    manifest.json                   format, entry count, head hash
    entries.ndjson                  one entry a line: exactly its hashed bytes, then a newline
    accounts.json                   account names, never-below-zero flags, stored balances
    checkpoints/<size>.note         every signed checkpoint (C2SP signed note)
    checkpoints/consistency-<a>-<b>.json   proof between successive checkpoints (base64)
    keys.vkeys                      every checkpoint verifier key, one vkey a line

The hashed bytes are canonical JSON, which never holds a raw newline (JSON escapes control
characters), so a line is an entry's bytes. The database's columns are not exported: they
only repeat what the bytes say, and the auditor checks the bytes. Stored bytes that do hold
a newline (tampered) split into lines that are no entry, and verification refuses them.

``verify_export`` takes every fact from the bytes (:func:`ledger.linecheck.verify_lines`):
strict form, seq continuity, links, zero sums and balances, the hashes computed and then
compared with the manifest's head and, through the Merkle roots, with every checkpoint
signature and consistency proof; with an earlier checkpoint from elsewhere it checks that
the copy extends it.

Format 1 exports (``entries.jsonl``: a JSON object a line with base64 bytes and the
columns) are refused with a message to export again; the bytes, and so every checkpoint
kept earlier, are the same in the new export.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import nacl.signing

from ledger import checkpoint as ckpt
from ledger import merkle
from ledger.errors import LedgerError
from ledger.linecheck import verify_lines
from ledger.treecheck import RootTracker
from ledger.verify import Problem, StoredEntry

FORMAT = 2
ENTRIES_FILE = "entries.ndjson"
ACCOUNTS_FILE = "accounts.json"
MANIFEST_FILE = "manifest.json"
KEYS_FILE = "keys.vkeys"
CHECKPOINT_DIR = "checkpoints"

Verifiers = Sequence[str | ckpt.Verifier | tuple[str, nacl.signing.VerifyKey | bytes]]


class ExportError(LedgerError):
    """An export directory that cannot be read; ``code`` is ``bad_export``."""

    code = "bad_export"


@dataclass(slots=True)
class AuditReport:
    """The outcome of checking checkpoints (and, offline, the entries too)."""

    checkpoints: int = 0
    size: int = 0
    problem: Problem | None = None
    entries: int = 0
    head_hash: str = ""

    @property
    def ok(self) -> bool:
        """Return True when nothing was found wrong."""
        return self.problem is None


def check_checkpoints(
    notes: Iterable[tuple[int, str]],
    tracker: RootTracker,
    verifiers: Verifiers,
    origin: str | None = None,
) -> AuditReport:
    """Check signed notes against the keys and the roots of the entries they cover.

    Args:
        notes: ``(size it is filed under, note text)`` pairs.
        tracker: roots of the entries, fed with every entry hash.
        verifiers: every checkpoint key ever used.
        origin: when given, the origin every checkpoint must carry.

    Returns:
        A report; its ``problem`` names the first checkpoint that fails.
    """
    report = AuditReport(size=tracker.size)
    for size, note in sorted(notes):
        try:
            cp = ckpt.verify_checkpoint(note, verifiers, origin)
        except ckpt.CheckpointError as exc:
            report.problem = Problem(
                None, f"checkpoint_{exc.code}", f"checkpoint {size}: {exc.message}"
            )
            return report
        if cp.size != size:
            report.problem = Problem(
                None, "checkpoint_bad_format", f"checkpoint filed as {size} is for {cp.size}"
            )
            return report
        if size > tracker.size:
            report.problem = Problem(
                None,
                "checkpoint_beyond_ledger",
                f"checkpoint {size} covers more than the {tracker.size} entries present",
            )
            return report
        if tracker.roots.get(size) != cp.root:
            report.problem = Problem(
                size if size else None,
                "checkpoint_root_mismatch",
                f"the first {size} entries do not have the root signed in checkpoint {size}",
            )
            return report
        report.checkpoints += 1
    return report


# --- writing -------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    """Return standard base64."""
    return base64.b64encode(data).decode("ascii")


def write_export(
    directory: Path,
    entries: Iterable[StoredEntry],
    notes: Sequence[tuple[int, str]],
    proofs: Mapping[tuple[int, int], Sequence[bytes]],
    vkeys: Sequence[str],
    accounts: Sequence[Mapping[str, Any]],
) -> int:
    """Write an export directory.

    Args:
        directory: target (created; existing export files are overwritten).
        entries: the stored entries in order.
        notes: ``(size, note)`` of every checkpoint.
        proofs: consistency proofs keyed by ``(old size, new size)``.
        vkeys: verifier key strings.
        accounts: ``{"name", "non_negative", "balance"}`` per account.

    Only the hashed bytes of each entry are written (see the module notes).

    Returns:
        The number of entries written.
    """
    directory = Path(directory)
    (directory / CHECKPOINT_DIR).mkdir(parents=True, exist_ok=True)
    count, head = 0, ""
    with (directory / ENTRIES_FILE).open("wb") as out:
        write = out.write
        for e in entries:
            write(e.body + b"\n")
            count, head = count + 1, e.hash
    for size, note in notes:
        (directory / CHECKPOINT_DIR / f"{size}.note").write_text(note, encoding="utf-8")
    for (old, new), proof in proofs.items():
        doc = {"old": old, "new": new, "proof": [_b64(h) for h in proof]}
        (directory / CHECKPOINT_DIR / f"consistency-{old}-{new}.json").write_text(
            json.dumps(doc, indent=1) + "\n", encoding="utf-8"
        )
    (directory / KEYS_FILE).write_text("".join(v + "\n" for v in vkeys), encoding="utf-8")
    (directory / ACCOUNTS_FILE).write_text(
        json.dumps({"accounts": list(accounts)}, indent=1, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    manifest = {"format": FORMAT, "entries": count, "head_hash": head}
    (directory / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1) + "\n", "utf-8")
    return count


# --- reading and verifying -----------------------------------------------------------------


def _read_json(path: Path) -> Any:
    """Read a JSON file of the export or raise ExportError."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ExportError(f"{path.name}: {exc}") from exc


def read_notes(directory: Path) -> list[tuple[int, str]]:
    """Return ``(size, note)`` of every checkpoint file, smallest first."""
    out: list[tuple[int, str]] = []
    for path in (Path(directory) / CHECKPOINT_DIR).glob("*.note"):
        if not path.stem.isdigit():
            raise ExportError(f"unexpected checkpoint file {path.name}")
        out.append((int(path.stem), path.read_text(encoding="utf-8")))
    return sorted(out)


def read_vkeys(directory: Path) -> list[str]:
    """Return the verifier keys listed in the export."""
    path = Path(directory) / KEYS_FILE
    if not path.exists():
        return []
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def read_lines(directory: Path, chunk: int = 1 << 20) -> Iterator[bytes]:
    """Yield the bytes of every exported entry (each line without its newline).

    Raises:
        ExportError: the file does not end with a newline (it was cut short).
    """
    rest = b""
    with (Path(directory) / ENTRIES_FILE).open("rb") as data:
        while block := data.read(chunk):
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            yield from lines
    if rest:
        raise ExportError(f"{ENTRIES_FILE} does not end with a newline: it was cut short")


def _check_proofs(directory: Path, notes: Sequence[tuple[int, str]]) -> Problem | None:
    """Check the consistency proof between every two successive checkpoints."""
    roots = {size: ckpt.parse_note(note)[0].root for size, note in notes}
    for (old, _), (new, _) in pairwise(notes):
        if old == 0:  # RFC 9162 has no proof from the empty tree; its root was checked
            continue
        path = Path(directory) / CHECKPOINT_DIR / f"consistency-{old}-{new}.json"
        if not path.exists():
            return Problem(None, "checkpoint_inconsistent", f"no proof from {old} to {new}")
        doc = _read_json(path)
        try:
            proof = [base64.b64decode(h, validate=True) for h in doc["proof"]]
            merkle.check_consistency(old, new, roots[old], roots[new], proof)
        except (merkle.ProofError, KeyError, TypeError, binascii.Error) as exc:
            return Problem(
                None,
                "checkpoint_inconsistent",
                f"checkpoints {old} and {new} are not consistent: {exc}",
            )
    return None


def verify_export(
    directory: Path,
    *,
    checkpoint: str | None = None,
    vkeys: Sequence[str] = (),
    origin: str | None = None,
    fast: bool = True,
) -> AuditReport:
    """Verify an export directory with no database.

    Args:
        directory: the export.
        checkpoint: a signed note received earlier; the copy must extend it.
        vkeys: extra trusted verifier keys (added to those in the export).
        origin: when given, every checkpoint must carry it.
        fast: let the quick entry check settle what it can (same verdicts; for benchmarks).

    Returns:
        A report naming the first problem, if any.
    """
    directory = Path(directory)
    try:
        return _verify_export(directory, checkpoint, vkeys, origin, fast)
    except ExportError as exc:
        return AuditReport(problem=Problem(None, exc.code, exc.message))
    except ckpt.CheckpointError as exc:
        return AuditReport(problem=Problem(None, f"checkpoint_{exc.code}", exc.message))


def _verify_export(
    directory: Path, checkpoint: str | None, vkeys: Sequence[str], origin: str | None, fast: bool
) -> AuditReport:
    """Run the checks of :func:`verify_export`; may raise ExportError."""
    manifest = _read_json(directory / MANIFEST_FILE)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        if found == 1:
            raise ExportError(
                "this is a format 1 export, which this version no longer reads: export the "
                "ledger again (kindpakket ledger export); the entries' bytes and checkpoints "
                "are the same, so a checkpoint kept earlier still checks against it"
            )
        raise ExportError(f"manifest.json is not a format {FORMAT} export")
    accounts = _read_json(directory / ACCOUNTS_FILE)["accounts"]
    notes = read_notes(directory)
    wanted = {size for size, _ in notes}
    extra: ckpt.Checkpoint | None = None
    if checkpoint is not None:
        extra = ckpt.parse_note(checkpoint)[0]
        wanted.add(extra.size)
    verifiers = [*read_vkeys(directory), *vkeys]
    tracker = RootTracker(wanted)
    entries_report = verify_lines(
        read_lines(directory),
        tracker,
        non_negative={a["name"] for a in accounts if a["non_negative"]},
        expected_balances={a["name"]: int(a["balance"]) for a in accounts},
        fast=fast,
    )
    report = AuditReport(size=tracker.size, problem=entries_report.problem)
    report.entries, report.head_hash = entries_report.entries, entries_report.head_hash
    if report.problem is None and (
        manifest.get("entries") != report.entries or manifest.get("head_hash") != report.head_hash
    ):
        report.problem = Problem(None, "export_truncated", "entries differ from the manifest")
    if report.problem is not None:
        return report
    every = [*notes, *([(extra.size, checkpoint)] if extra and checkpoint else [])]
    cps = check_checkpoints(every, tracker, verifiers, origin)
    report.checkpoints, report.problem = len(notes), cps.problem
    if report.problem is None:
        report.problem = _check_proofs(directory, notes)
    return report


__all__ = [
    "AuditReport",
    "ExportError",
    "RootTracker",
    "check_checkpoints",
    "read_lines",
    "read_notes",
    "read_vkeys",
    "verify_export",
    "write_export",
]
