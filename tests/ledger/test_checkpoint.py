"""Signed checkpoints: C2SP signed-note and tlog-checkpoint format, Ed25519, key rotation."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

import nacl.signing
import pytest

from ledger import checkpoint as ckpt
from ledger.checkpoint import Checkpoint, CheckpointError
from ledger.merkle import MemoryTree

ORIGIN = "kindpakket.example/ledger"
OLD_KEY = nacl.signing.SigningKey(bytes(range(32)))
NEW_KEY = nacl.signing.SigningKey(bytes(range(32, 64)))
STRANGER = nacl.signing.SigningKey(bytes(range(64, 96)))
TREE = MemoryTree.from_data([f"entry {i}".encode() for i in range(10)])
CP = Checkpoint(ORIGIN, 10, TREE.root())

# golang.org/x/mod/sumdb/note example (also in C2SP signed-note): an external anchor.
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY_DATA = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"  # 0x01 || seed
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def vk(key: nacl.signing.SigningKey, name: str = ORIGIN) -> str:
    """Return the vkey string of a signing key."""
    return ckpt.vkey(name, key.verify_key)


def code_of(note: str, verifiers: list[str], **kw: str) -> str:
    """Return the code of the CheckpointError that verifying ``note`` raises."""
    with pytest.raises(CheckpointError) as info:
        ckpt.verify_checkpoint(note, verifiers, **kw)
    return info.value.code


def test_go_reference_vector() -> None:
    seed = base64.b64decode(GO_SKEY_DATA)[1:]
    key = nacl.signing.SigningKey(seed)
    assert ckpt.vkey("PeterNeumann", key.verify_key) == GO_VKEY
    assert ckpt.sign_note(GO_TEXT, "PeterNeumann", key) == GO_NOTE
    assert ckpt.verify_note(GO_NOTE, [GO_VKEY]) == GO_TEXT
    with pytest.raises(CheckpointError) as info:
        ckpt.verify_note(GO_NOTE.replace("cryptography", "cryptographY"), [GO_VKEY])
    assert info.value.code == "bad_signature"


def test_note_layout() -> None:
    note = ckpt.sign_checkpoint(CP, ORIGIN, OLD_KEY)
    root_b64 = base64.b64encode(TREE.root()).decode()
    body = f"{ORIGIN}\n10\n{root_b64}\n"
    assert note.startswith(body + "\n\u2014 " + ORIGIN + " ")
    assert note.endswith("\n")
    blob = base64.b64decode(note.rsplit(" ", 1)[1])
    assert len(blob) == 4 + 64
    raw = bytes(OLD_KEY.verify_key)
    assert blob[:4] == hashlib.sha256(ORIGIN.encode() + b"\n\x01" + raw).digest()[:4]
    assert blob[4:] == OLD_KEY.sign(body.encode()).signature
    assert CP.body() == body


def test_vkey_format_and_parse() -> None:
    text = vk(OLD_KEY)
    name, hex_id, key_b64 = text.split("+", 2)
    assert name == ORIGIN
    assert bytes.fromhex(hex_id) == ckpt.key_id(ORIGIN, bytes(OLD_KEY.verify_key))
    assert base64.b64decode(key_b64) == b"\x01" + bytes(OLD_KEY.verify_key)
    parsed = ckpt.parse_vkey(text)
    assert parsed.name == ORIGIN and parsed.verify_key == OLD_KEY.verify_key


def test_vkey_whose_base64_holds_a_plus() -> None:
    # transparency-dev/formats test key: the key material itself contains "+"
    parsed = ckpt.parse_vkey("TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6")
    assert parsed.name == "TEST"
    assert parsed.key_id == bytes.fromhex("7997405c")


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "name+00000000",
        "name+zzzzzzzz+" + GO_VKEY.split("+")[2],
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong id
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # upper hex
        "PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # alg 0x02
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",  # short
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # space
    ],
)
def test_bad_vkeys_refused(bad: str) -> None:
    with pytest.raises(CheckpointError) as info:
        ckpt.parse_vkey(bad)
    assert info.value.code == "bad_key"


def test_round_trip() -> None:
    note = ckpt.sign_checkpoint(CP, ORIGIN, OLD_KEY)
    assert ckpt.verify_checkpoint(note, [vk(OLD_KEY)]) == CP
    assert ckpt.verify_checkpoint(note, [(ORIGIN, OLD_KEY.verify_key)], origin=ORIGIN) == CP
    parsed, sigs = ckpt.parse_note(note)
    assert parsed == CP
    assert [(s.key_name, len(s.key_id), len(s.signature)) for s in sigs] == [(ORIGIN, 4, 64)]


def test_empty_tree_checkpoint_round_trip() -> None:
    empty = Checkpoint(ORIGIN, 0, MemoryTree().root())
    note = ckpt.sign_checkpoint(empty, ORIGIN, OLD_KEY)
    assert "\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n" in note
    assert ckpt.verify_checkpoint(note, [vk(OLD_KEY)]) == empty


@pytest.mark.parametrize(
    "changed",
    [
        Checkpoint(ORIGIN, 11, TREE.root()),
        Checkpoint(ORIGIN, 9, TREE.root()),
        Checkpoint(ORIGIN, 10, TREE.root(9)),
        Checkpoint("kindpakket.example/other", 10, TREE.root()),
    ],
    ids=["size+1", "size-1", "root", "origin"],
)
def test_changed_body_refused(changed: Checkpoint) -> None:
    note = ckpt.sign_checkpoint(CP, ORIGIN, OLD_KEY)
    signature_block = note[note.rindex("\n\n") :]
    forged = changed.body() + signature_block[1:]
    assert code_of(forged, [vk(OLD_KEY)]) == "bad_signature"


def test_changed_signature_refused() -> None:
    note = ckpt.sign_checkpoint(CP, ORIGIN, OLD_KEY)
    head, b64 = note.rstrip("\n").rsplit(" ", 1)
    blob = bytearray(base64.b64decode(b64))
    blob[10] ^= 0x01
    forged = head + " " + base64.b64encode(bytes(blob)).decode() + "\n"
    assert code_of(forged, [vk(OLD_KEY)]) == "bad_signature"
    short = head + " " + base64.b64encode(bytes(blob[:40])).decode() + "\n"
    assert code_of(short, [vk(OLD_KEY)]) == "bad_signature"


def test_unknown_key_refused() -> None:
    note = ckpt.sign_checkpoint(CP, ORIGIN, STRANGER)
    assert code_of(note, [vk(OLD_KEY), vk(NEW_KEY)]) == "unknown_key"
    assert code_of(note, []) == "unknown_key"
    # same key under another name is another key id
    renamed = ckpt.sign_checkpoint(CP, "someone-else", OLD_KEY)
    assert code_of(renamed, [vk(OLD_KEY)]) == "unknown_key"


def test_rotation_old_and_new_keys_verify() -> None:
    known = [vk(OLD_KEY), vk(NEW_KEY)]
    old_note = ckpt.sign_checkpoint(Checkpoint(ORIGIN, 5, TREE.root(5)), ORIGIN, OLD_KEY)
    new_note = ckpt.sign_checkpoint(CP, ORIGIN, NEW_KEY)
    assert ckpt.verify_checkpoint(old_note, known).size == 5
    assert ckpt.verify_checkpoint(new_note, known).size == 10
    assert code_of(old_note, [vk(NEW_KEY)]) == "unknown_key"


def test_extra_unknown_signature_ignored_but_bad_known_one_refused() -> None:
    note = ckpt.sign_checkpoint(CP, ORIGIN, OLD_KEY)
    witness_line = ckpt.sign_checkpoint(CP, "witness.example", STRANGER).split("\n\n")[1]
    cosigned = note + witness_line
    assert len(ckpt.parse_note(cosigned)[1]) == 2
    assert ckpt.verify_checkpoint(cosigned, [vk(OLD_KEY)]) == CP
    # a known name with another key has another key id: that signature is simply not ours
    other_witness = ckpt.vkey("witness.example", NEW_KEY.verify_key)
    assert ckpt.verify_checkpoint(cosigned, [vk(OLD_KEY), other_witness]) == CP
    # a signature line claiming a known key (name and id) must verify, even next to a good one
    new_id = ckpt.key_id(ORIGIN, bytes(NEW_KEY.verify_key))
    junk = base64.b64encode(new_id + bytes(64)).decode()
    forged = note + f"\u2014 {ORIGIN} {junk}\n"
    assert ckpt.verify_checkpoint(forged, [vk(OLD_KEY)]) == CP
    assert code_of(forged, [vk(OLD_KEY), vk(NEW_KEY)]) == "bad_signature"


def test_wrong_origin_refused() -> None:
    note = ckpt.sign_checkpoint(CP, ORIGIN, OLD_KEY)
    assert code_of(note, [vk(OLD_KEY)], origin="elsewhere.example/ledger") == "wrong_origin"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda n: n.rstrip("\n"),  # no final newline
        lambda n: n.replace("\n\n", "\n"),  # no blank line
        lambda n: n.replace("\u2014", "-"),  # hyphen, not em dash
        lambda n: n.replace("\n10\n", "\n010\n"),  # leading zero
        lambda n: n.replace("\n10\n", "\n+10\n"),  # sign
        lambda n: n.replace("\n10\n", "\n1O\n"),  # letter
        lambda n: n.replace("=\n\n", "\n\n"),  # root base64 not canonical
        lambda n: n.split("\n", 1)[1],  # origin line missing
        lambda n: n.replace("\n10\n", "\n10\t\n"),  # control character
        lambda n: n + "garbage\n",  # trailing non-signature line
        lambda n: n.split("\n\n")[0] + "\n\n",  # no signatures
    ],
)
def test_malformed_notes_refused(mangle: Callable[[str], str]) -> None:
    note = ckpt.sign_checkpoint(CP, ORIGIN, OLD_KEY)
    bad = mangle(note)
    assert bad != note
    assert code_of(bad, [vk(OLD_KEY)]) == "bad_format"


def test_checkpoint_values_validated() -> None:
    for kwargs in (
        {"origin": "", "size": 1, "root": bytes(32)},
        {"origin": "a\nb", "size": 1, "root": bytes(32)},
        {"origin": ORIGIN, "size": -1, "root": bytes(32)},
        {"origin": ORIGIN, "size": 1, "root": bytes(31)},
    ):
        with pytest.raises(CheckpointError) as info:
            Checkpoint(**kwargs)  # type: ignore[arg-type]
        assert info.value.code == "bad_format"
    with pytest.raises(CheckpointError) as info:
        ckpt.sign_checkpoint(CP, "bad name", OLD_KEY)
    assert info.value.code == "bad_key"


def test_extension_lines_are_signed() -> None:
    cp = Checkpoint(ORIGIN, 10, TREE.root(), ("time 1700000000",))
    note = ckpt.sign_checkpoint(cp, ORIGIN, OLD_KEY)
    assert ckpt.verify_checkpoint(note, [vk(OLD_KEY)]) == cp
    forged = note.replace("time 1700000000", "time 1700000001")
    assert code_of(forged, [vk(OLD_KEY)]) == "bad_signature"
