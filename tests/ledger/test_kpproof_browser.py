"""kpproof.js in real headless chromium, fed with proofs and notes made by the Python core."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nacl.signing
import pytest

from ledger import checkpoint as ckpt
from ledger.checkpoint import Checkpoint
from ledger.merkle import MemoryTree, leaf_hash
from tests.browser import kit

pytestmark = pytest.mark.browser

JS_DIR = Path(__file__).resolve().parents[2] / "kindpakket" / "static" / "js"
ORIGIN = "kindpakket.example/ledger"
OLD_KEY = nacl.signing.SigningKey(bytes(range(32)))
NEW_KEY = nacl.signing.SigningKey(bytes(range(32, 64)))
STRANGER = nacl.signing.SigningKey(bytes(range(64, 96)))
ENTRIES = [hashlib.sha256(f"entry {i}".encode()).digest() for i in range(20)]
TREE = MemoryTree([leaf_hash(e) for e in ENTRIES])

GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_NOTE = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
    "\n\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)

INDEX_HTML = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title></head></html>'
)


@pytest.fixture(scope="module")
def kp_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Yield a chromium page on http://127.0.0.1 (a secure context) with kpproof.js loaded."""
    kit.require_chromium()
    root = tmp_path_factory.mktemp("kpproof")
    (root / "index.html").write_text(INDEX_HTML, encoding="utf-8")
    with kit.serve_directory(root, {"/js": JS_DIR}) as base, kit.browser_page() as pg:
        errors = kit.watch_errors(pg)
        pg.goto(f"{base}/index.html")
        assert pg.evaluate("() => window.isSecureContext") is True
        pg.evaluate("async () => { window.kp = await import('/js/kpproof.js'); }")
        yield pg
        assert errors == []


def run(kp_page: Any, body: str, arg: Any = None) -> Any:
    """Evaluate an async function body with ``kp`` (the module) and ``arg`` in scope."""
    return kp_page.evaluate(f"async (arg) => {{ const kp = window.kp; {body} }}", arg)


def vk(key: nacl.signing.SigningKey) -> dict[str, str]:
    """Return the {name, public_key_b64} form of a key."""
    return {"name": ORIGIN, "public_key_b64": base64.b64encode(bytes(key.verify_key)).decode()}


def proof_case(index: int, size: int) -> dict[str, Any]:
    """Return the JSON-able inclusion case of entry ``index`` in the tree of ``size``."""
    return {
        "hash": ENTRIES[index].hex(),
        "index": index,
        "size": size,
        "proof": [h.hex() for h in TREE.inclusion_proof(index, size)],
        "root": list(TREE.root(size)),
    }


def test_every_python_proof_verifies_in_the_browser(kp_page: Any) -> None:
    cases = [proof_case(i, n) for n in range(1, len(ENTRIES) + 1) for i in range(n)]
    results = run(
        kp_page,
        """return Promise.all(arg.map((c) =>
            kp.verifyInclusion(c.hash, c.index, c.size, c.proof, new Uint8Array(c.root))));""",
        cases,
    )
    assert results == [True] * len(cases)


def test_hashes_match_python(kp_page: Any) -> None:
    got = run(
        kp_page,
        """const leaf = await kp.leafHash(kp.hexToBytes(arg.data));
           const node = await kp.nodeHash(kp.hexToBytes(arg.a), kp.hexToBytes(arg.b));
           return [kp.bytesToHex(leaf), kp.bytesToHex(node)];""",
        {"data": "10", "a": "aa" * 32, "b": "bb" * 32},
    )
    assert got[0] == leaf_hash(b"\x10").hex()
    assert got[1] == hashlib.sha256(b"\x01" + b"\xaa" * 32 + b"\xbb" * 32).digest().hex()


def test_corrupted_proofs_refused_in_the_browser(kp_page: Any) -> None:
    c = proof_case(5, 13)
    flipped = list(c["proof"])
    flipped[1] = ("0" if flipped[1][0] != "0" else "1") + flipped[1][1:]
    variants = {
        "bit flip": {**c, "proof": flipped},
        "wrong index": {**c, "index": 4},
        "wrong size": {**c, "size": 17},
        "extra hash": {**c, "proof": [*c["proof"], c["proof"][0]]},
        "missing hash": {**c, "proof": c["proof"][:-1]},
        "size 0": {**c, "index": 0, "size": 0, "proof": []},
        "index out of range": {**c, "index": 13},
        "negative index": {**c, "index": -1},
        "short hash": {**c, "proof": [*c["proof"][:-1], c["proof"][-1][:-2]]},
        "other root": {**c, "root": list(TREE.root(12))},
    }
    results = run(
        kp_page,
        """const out = {};
           for (const [k, c] of Object.entries(arg)) {
             out[k] = await kp.verifyInclusion(c.hash, c.index, c.size, c.proof,
                                               new Uint8Array(c.root));
           }
           return out;""",
        variants,
    )
    assert results == dict.fromkeys(variants, False)
    assert run(
        kp_page,
        """return kp.verifyInclusion(arg.hash, arg.index, arg.size, arg.proof,
                                     new Uint8Array(arg.root));""",
        c,
    )


def verify_codes(kp_page: Any, notes: dict[str, str], keys: list[Any]) -> dict[str, str]:
    """Return "ok:<size>" or the error code per note, verified in the browser."""
    return run(
        kp_page,
        """const out = {};
           for (const [k, note] of Object.entries(arg.notes)) {
             try {
               const cp = await kp.verifyCheckpoint(note, arg.keys);
               out[k] = `ok:${cp.size}:${kp.bytesToB64(cp.root)}:${cp.origin}`;
             } catch (e) { out[k] = e.code ?? String(e); }
           }
           return out;""",
        {"notes": notes, "keys": keys},
    )


def test_checkpoints_in_the_browser(kp_page: Any) -> None:
    cp = Checkpoint(ORIGIN, 13, TREE.root(13))
    note = ckpt.sign_checkpoint(cp, ORIGIN, OLD_KEY)
    sig_block = note[note.rindex("\n\n") + 1 :]
    head, b64 = note.rstrip("\n").rsplit(" ", 1)
    blob = bytearray(base64.b64decode(b64))
    blob[20] ^= 0x10
    notes = {
        "good": note,
        "size changed": Checkpoint(ORIGIN, 14, cp.root).body() + sig_block,
        "root changed": Checkpoint(ORIGIN, 13, TREE.root(12)).body() + sig_block,
        "origin changed": Checkpoint("evil.example/ledger", 13, cp.root).body() + sig_block,
        "signature changed": head + " " + base64.b64encode(bytes(blob)).decode() + "\n",
        "stranger": ckpt.sign_checkpoint(cp, ORIGIN, STRANGER),
        "no final newline": note.rstrip("\n"),
        "leading zero": note.replace("\n13\n", "\n013\n"),
    }
    root_b64 = base64.b64encode(cp.root).decode()
    assert verify_codes(kp_page, notes, [vk(OLD_KEY)]) == {
        "good": f"ok:13:{root_b64}:{ORIGIN}",
        "size changed": "bad_signature",
        "root changed": "bad_signature",
        "origin changed": "bad_signature",
        "signature changed": "bad_signature",
        "stranger": "unknown_key",
        "no final newline": "bad_format",
        "leading zero": "bad_format",
    }


def test_key_rotation_and_key_forms_in_the_browser(kp_page: Any) -> None:
    old_note = ckpt.sign_checkpoint(Checkpoint(ORIGIN, 5, TREE.root(5)), ORIGIN, OLD_KEY)
    new_note = ckpt.sign_checkpoint(Checkpoint(ORIGIN, 9, TREE.root(9)), ORIGIN, NEW_KEY)
    notes = {"old": old_note, "new": new_note}
    both = [vk(OLD_KEY), vk(NEW_KEY)]
    got = verify_codes(kp_page, notes, both)
    assert got["old"].startswith("ok:5:") and got["new"].startswith("ok:9:")
    assert verify_codes(kp_page, notes, [vk(NEW_KEY)])["old"] == "unknown_key"
    vkeys = [ckpt.vkey(ORIGIN, OLD_KEY.verify_key), {"vkey": ckpt.vkey(ORIGIN, NEW_KEY.verify_key)}]
    assert all(v.startswith("ok:") for v in verify_codes(kp_page, notes, vkeys).values())
    nameless = [{"public_key": vk(OLD_KEY)["public_key_b64"]}]  # as published at /api/v1/keys
    assert verify_codes(kp_page, notes, nameless) == {"old": got["old"], "new": "unknown_key"}


def test_go_reference_note_in_the_browser(kp_page: Any) -> None:
    result = run(
        kp_page,
        """const text = await kp.verifyNote(arg.note, [arg.vkey]);
           let tampered;
           try { await kp.verifyNote(arg.note.replace('problem,', 'problem;'), [arg.vkey]); }
           catch (e) { tampered = e.code; }
           return [text, tampered];""",
        {"note": GO_NOTE, "vkey": GO_VKEY},
    )
    assert result == [GO_NOTE.split("\n\n")[0] + "\n", "bad_signature"]


def test_receipts_in_the_browser(kp_page: Any) -> None:
    size = 17
    note = ckpt.sign_checkpoint(Checkpoint(ORIGIN, size, TREE.root(size)), ORIGIN, NEW_KEY)
    keys = [vk(OLD_KEY), vk(NEW_KEY)]

    def receipt(number: int, **changes: Any) -> dict[str, Any]:
        base = {
            "entry_hash": ENTRIES[number - 1].hex(),
            "seq": number,
            "proof": [h.hex() for h in TREE.inclusion_proof(number - 1, size)],
            "checkpoint": note,
            "keys": keys,
        }
        return {**base, **changes}

    receipts = {
        "first": receipt(1),
        "last": receipt(size),
        "middle": receipt(9),
        "seq off by one": receipt(9, seq=10),
        "seq zero": receipt(1, seq=0),
        "seq past size": receipt(size, seq=size + 1),
        "other entry": receipt(9, entry_hash=ENTRIES[3].hex()),
        "unknown key": receipt(9, keys=[vk(STRANGER)]),
        "wrong origin": receipt(9, origin="elsewhere.example/ledger"),
    }
    got = run(
        kp_page,
        """const out = {};
           for (const [k, r] of Object.entries(arg)) {
             const res = await kp.verifyReceipt(r);
             out[k] = res.ok ? `ok:${res.index}:${res.checkpoint.size}` : res.code;
           }
           return out;""",
        receipts,
    )
    assert got == {
        "first": "ok:0:17",
        "last": "ok:16:17",
        "middle": "ok:8:17",
        "seq off by one": "root_mismatch",
        "seq zero": "index_out_of_range",
        "seq past size": "index_out_of_range",
        "other entry": "root_mismatch",
        "unknown key": "unknown_key",
        "wrong origin": "wrong_origin",
    }


def consistency_case(old: int, new: int) -> dict[str, Any]:
    """Return the JSON-able consistency case from ``old`` to ``new`` leaves."""
    return {
        "old": old,
        "new": new,
        "oldRoot": list(TREE.root(old)),
        "newRoot": list(TREE.root(new)),
        "proof": [h.hex() for h in TREE.consistency_proof(old, new)],
    }


VERIFY_CONSISTENCY = """const out = {};
   for (const [k, c] of Object.entries(arg)) {
     out[k] = await kp.verifyConsistency(c.old, c.new, new Uint8Array(c.oldRoot),
                                         new Uint8Array(c.newRoot), c.proof);
   }
   return out;"""


def test_every_python_consistency_proof_verifies_in_the_browser(kp_page: Any) -> None:
    n = len(ENTRIES)
    cases = {f"{m}-{k}": consistency_case(m, k) for k in range(1, n + 1) for m in range(1, k + 1)}
    assert run(kp_page, VERIFY_CONSISTENCY, cases) == dict.fromkeys(cases, True)


def test_corrupted_consistency_proofs_refused_in_the_browser(kp_page: Any) -> None:
    c = consistency_case(6, 13)
    flipped = list(c["proof"])
    flipped[0] = ("0" if flipped[0][0] != "0" else "1") + flipped[0][1:]
    forked = MemoryTree([leaf_hash(e) for e in [*ENTRIES[:3], b"\x07" * 32, *ENTRIES[4:]]])
    variants = {
        "bit flip": {**c, "proof": flipped},
        "other old root": {**c, "oldRoot": list(TREE.root(5))},
        "other new root": {**c, "newRoot": list(TREE.root(12))},
        "extra hash": {**c, "proof": [*c["proof"], c["proof"][0]]},
        "missing hash": {**c, "proof": c["proof"][:-1]},
        "shrinking": {**c, "old": 13, "new": 6},
        "same size, other root": {**consistency_case(6, 6), "newRoot": list(TREE.root(7))},
        # The server rewrote entry 4 after the browser kept the 6-entry checkpoint.
        "rewritten": {**c, "newRoot": list(forked.root(13))},
    }
    assert run(kp_page, VERIFY_CONSISTENCY, variants) == dict.fromkeys(variants, False)


def test_other_signers_are_named_and_do_not_break_the_check(kp_page: Any) -> None:
    cp = Checkpoint(ORIGIN, 7, TREE.root(7))
    note = ckpt.sign_checkpoint(cp, ORIGIN, OLD_KEY)
    witness = "witness.example/w1 " + base64.b64encode(bytes(range(76))).decode()
    cosigned = note + f"\u2014 {witness}\n"
    got = run(
        kp_page,
        """const cp = await kp.verifyCheckpoint(arg.note, arg.keys, {origin: arg.origin});
           return [cp.size, await kp.otherSigners(arg.note, arg.keys),
                   await kp.otherSigners(arg.plain, arg.keys)];""",
        {"note": cosigned, "plain": note, "keys": [vk(OLD_KEY)], "origin": ORIGIN},
    )
    assert got == [7, ["witness.example/w1"], []]
