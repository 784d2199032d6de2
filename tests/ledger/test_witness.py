"""Cosignatures (C2SP tlog-cosignature v1) and the witness's checks, without any database."""

from __future__ import annotations

import base64
import hashlib
import struct

import nacl.signing
import pytest

from ledger import checkpoint as ckpt
from ledger import merkle
from ledger import witness as wit
from ledger.merkle import MemoryTree

ORIGIN = "kindpakket.test/ledger"
LOG_KEY = nacl.signing.SigningKey(bytes(range(32)))
LOG_VKEY = ckpt.vkey(ORIGIN, LOG_KEY.verify_key)
W_NAME = "auditor.gemeente.test/witness"
W_KEY = nacl.signing.SigningKey(bytes(range(100, 132)))
W_PUBLIC = W_KEY.verify_key
TIME = 1_700_000_000


def tree(n: int, salt: bytes = b"") -> MemoryTree:
    """Return a tree of ``n`` made-up entry hashes."""
    leaves = [hashlib.sha256(salt + i.to_bytes(8, "big")).digest() for i in range(n)]
    return MemoryTree([merkle.leaf_hash(h) for h in leaves])


def note_of(t: MemoryTree, size: int, key: nacl.signing.SigningKey = LOG_KEY) -> str:
    """Return the log-signed note of ``t`` at ``size``."""
    return ckpt.sign_checkpoint(ckpt.Checkpoint(ORIGIN, size, t.root(size)), ORIGIN, key)


def body_of(note: str) -> str:
    return ckpt.split_note(note)[0]


def test_cosignature_bytes_follow_the_spec_layout() -> None:
    body = note_of(tree(5), 5).split("\n\n")[0] + "\n"
    line = wit.cosign(body, W_NAME, W_KEY, TIME).line()
    # Built by hand from the spec, independently of the module's own packing:
    kid = hashlib.sha256(W_NAME.encode() + b"\n\x04" + bytes(W_PUBLIC)).digest()[:4]
    message = b"cosignature/v1\ntime 1700000000\n" + body.encode()
    expected_blob = kid + struct.pack(">Q", TIME) + W_KEY.sign(message).signature
    assert line == f"— {W_NAME} " + base64.b64encode(expected_blob).decode()
    key, co = wit.verify_cosignature(body, line, [wit.CosignerKey.from_key(W_NAME, W_PUBLIC)])
    assert (key.name, co.timestamp) == (W_NAME, TIME)


def test_vkey_round_trips_and_differs_from_a_note_signing_key() -> None:
    text = wit.cosigner_vkey(W_NAME, bytes(W_PUBLIC))
    key = wit.parse_cosigner_vkey(text)
    assert key.vkey() == text and bytes(key.verify_key) == bytes(W_PUBLIC)
    # Same key and name as an ordinary note key get another id (type byte 0x04, not 0x01).
    assert key.key_id != ckpt.key_id(W_NAME, bytes(W_PUBLIC))
    for bad in (ckpt.vkey(W_NAME, W_PUBLIC), text.replace("+", "+0", 1), "name-only", ""):
        with pytest.raises(wit.WitnessError) as err:
            wit.parse_cosigner_vkey(bad)
        assert err.value.code == wit.CO_BAD_KEY


def _with_timestamp(line: str, timestamp: int) -> str:
    """Return ``line`` with its timestamp replaced (signature unchanged)."""
    name, b64 = line[2:].split(" ")
    blob = bytearray(base64.b64decode(b64))
    blob[4:12] = struct.pack(">Q", timestamp)
    return f"— {name} " + base64.b64encode(bytes(blob)).decode()


def test_refuses_wrong_timestamp_wrong_key_id_and_tampered_body() -> None:
    body = body_of(note_of(tree(5), 5))
    keys = [wit.CosignerKey.from_key(W_NAME, W_PUBLIC)]
    line = wit.cosign(body, W_NAME, W_KEY, TIME).line()

    def refused(body_text: str, line_text: str) -> str:
        with pytest.raises(wit.WitnessError) as err:
            wit.verify_cosignature(body_text, line_text, keys, now=TIME)
        return err.value.code

    assert refused(body, _with_timestamp(line, TIME + 1)) == wit.CO_BAD_SIGNATURE
    assert refused(body.replace("\n5\n", "\n6\n"), line) == wit.CO_BAD_SIGNATURE
    other = wit.cosign(body, "someone.else/witness", W_KEY, TIME).line()
    assert refused(body, other) == wit.CO_UNKNOWN_KEY
    stranger = nacl.signing.SigningKey(bytes(32))
    assert refused(body, wit.cosign(body, W_NAME, stranger, TIME).line()) == wit.CO_UNKNOWN_KEY
    future = wit.cosign(body, W_NAME, W_KEY, TIME + 3600).line()
    assert refused(body, future) == wit.CO_FUTURE
    for junk in ("", "— x", f"— {W_NAME} AAAA", line + "=", line.replace("— ", "- ")):
        assert refused(body, junk) == wit.CO_BAD_FORMAT


def test_a_note_with_cosignatures_still_verifies_for_the_log_and_names_its_witnesses() -> None:
    note = note_of(tree(7), 7)
    keys = [wit.CosignerKey.from_key(W_NAME, W_PUBLIC)]
    line = wit.cosign(body_of(note), W_NAME, W_KEY, TIME).line()
    cosigned = wit.with_cosignatures(note, [line, line])
    assert cosigned.count(line) == 1 and cosigned == wit.with_cosignatures(cosigned, [line])
    assert ckpt.verify_checkpoint(cosigned, [LOG_VKEY], ORIGIN).size == 7
    assert [(k.name, t) for k, t in wit.cosigners_of(cosigned, keys)] == [(W_NAME, TIME)]
    assert wit.cosigners_of(note, keys) == []
    forged = wit.with_cosignatures(note, [_with_timestamp(line, TIME - 5)])
    with pytest.raises(wit.WitnessError) as err:
        wit.cosigners_of(forged, keys)
    assert err.value.code == wit.CO_BAD_SIGNATURE


def start() -> wit.WitnessView:
    return wit.WitnessView(ORIGIN, (LOG_VKEY,))


def step(view: wit.WitnessView, note: str, proof: list[bytes]) -> wit.WitnessView:
    new, co = wit.witness_checkpoint(view, note, proof, W_NAME, W_KEY, TIME)
    wit.verify_cosignature(body_of(note), co.line(), [wit.CosignerKey.from_key(W_NAME, W_PUBLIC)])
    return new


def test_witness_follows_a_growing_log() -> None:
    t = tree(20)
    view = step(start(), note_of(t, 4), [])
    assert (view.size, view.root) == (4, t.root(4))
    view = step(view, note_of(t, 13), t.consistency_proof(4, 13))
    view = step(view, note_of(t, 13), [])  # the same checkpoint again is fine
    view = step(view, note_of(t, 20), t.consistency_proof(13, 20))
    assert (view.size, view.note) == (20, note_of(t, 20))


def refusal(view: wit.WitnessView, note: str, proof: list[bytes]) -> wit.WitnessError:
    with pytest.raises(wit.WitnessError) as err:
        wit.witness_checkpoint(view, note, proof, W_NAME, W_KEY, TIME)
    return err.value


def test_witness_refuses_split_views_rollbacks_and_forks() -> None:
    honest, twin = tree(20), tree(20, salt=b"rewritten")
    view = step(start(), note_of(honest, 8), [])
    split = refusal(view, note_of(twin, 8), [])
    assert split.code == wit.W_SPLIT_VIEW and split.misbehaviour
    rollback = refusal(view, note_of(honest, 5), [])
    assert rollback.code == wit.W_ROLLBACK and rollback.misbehaviour
    # A bigger rewritten tree with its own (valid) proof does not reach the co-signed root.
    fork = refusal(view, note_of(twin, 12), twin.consistency_proof(8, 12))
    assert fork.code == wit.W_INCONSISTENT and fork.misbehaviour
    short = refusal(view, note_of(honest, 12), honest.consistency_proof(8, 12)[:-1])
    assert short.code == wit.W_BAD_PROOF and not short.misbehaviour


def test_witness_refuses_checkpoints_the_log_did_not_sign() -> None:
    t = tree(6)
    stranger = nacl.signing.SigningKey(bytes(32))
    assert refusal(start(), note_of(t, 6, stranger), []).code == wit.W_BAD_CHECKPOINT
    elsewhere = ckpt.sign_checkpoint(ckpt.Checkpoint("other/log", 6, t.root(6)), ORIGIN, LOG_KEY)
    assert refusal(start(), elsewhere, []).code == wit.W_BAD_CHECKPOINT
    empty = ckpt.sign_checkpoint(ckpt.Checkpoint(ORIGIN, 0, t.root(6)), ORIGIN, LOG_KEY)
    assert refusal(start(), empty, []).code == wit.W_BAD_EMPTY
    assert refusal(start(), note_of(t, 6), [t.root(1)]).code == wit.W_BAD_PROOF


def test_cosignature_times_never_go_backwards() -> None:
    t = tree(9)
    view = wit.WitnessView(ORIGIN, (LOG_VKEY,), cosigned_at=TIME + 50)
    new, co = wit.witness_checkpoint(view, note_of(t, 9), [], W_NAME, W_KEY, TIME)
    assert co.timestamp == new.cosigned_at == TIME + 50
