"""Tests for the Ed25519 keyring (kindpakket/keys.py)."""

from __future__ import annotations

import ast
import base64
import json
import logging
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from kindpakket.keys import DEFAULT_OVERLAP_SECONDS, Keyring, KeyringError

T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def ring(tmp_path: Path) -> Keyring:
    """Return a keyring in a directory that does not exist yet."""
    return Keyring(tmp_path / "keys")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_generate_writes_private_file_0600_in_directory_0700(ring: Keyring) -> None:
    info = ring.generate("token", now=T0)
    keyfile = ring.directory / f"token-{info.kid}.key"
    assert _mode(ring.directory) == 0o700
    assert _mode(keyfile) == 0o600
    assert len(info.kid) == 8 and bytes.fromhex(info.kid) == info.kid_bytes
    seed = base64.b64decode(keyfile.read_text().strip(), validate=True)
    assert bytes(SigningKey(seed).verify_key) == info.public_key
    metadata = json.loads((ring.directory / "keys.json").read_text())
    assert [k["kid"] for k in metadata["keys"]] == [info.kid]
    assert seed.hex() not in json.dumps(metadata)
    assert base64.b64encode(seed).decode() not in json.dumps(metadata)


def test_generate_refuses_second_active_key_unless_forced(ring: Keyring) -> None:
    first = ring.generate("token", now=T0)
    with pytest.raises(KeyringError) as err:
        ring.generate("token", now=T0)
    assert err.value.code == "key_exists"
    second = ring.generate("token", force=True, now=T0 + timedelta(seconds=1))
    assert second.kid != first.kid
    assert ring.signing_key("token", at=T0 + timedelta(seconds=2))[0] == second


def test_purposes_are_independent(ring: Keyring) -> None:
    token = ring.generate("token", now=T0)
    checkpoint = ring.generate("checkpoint", now=T0)
    assert ring.signing_key("token", at=T0)[0] == token
    assert ring.signing_key("checkpoint", at=T0)[0] == checkpoint
    assert ring.verify_key("checkpoint", token.kid, T0) is None
    ring.rotate("token", overlap_seconds=60, now=T0)
    assert ring.signing_key("checkpoint", at=T0 + timedelta(days=30))[0] == checkpoint


def test_unknown_purpose_is_refused(ring: Keyring) -> None:
    with pytest.raises(KeyringError) as err:
        ring.generate("email")
    assert err.value.code == "bad_purpose"


def test_signing_key_without_keys_is_no_key(ring: Keyring) -> None:
    with pytest.raises(KeyringError) as err:
        ring.signing_key("token")
    assert err.value.code == "no_key"
    assert ring.list() == []
    assert ring.public_keys("token") == []


def test_signing_key_signs_what_verify_key_accepts(ring: Keyring) -> None:
    info = ring.generate("token", now=T0)
    got, signing = ring.signing_key("token", at=T0)
    assert got == info
    verify = ring.verify_key("token", info.kid, T0 + timedelta(hours=1))
    assert verify is not None
    assert verify.verify(signing.sign(b"hello")) == b"hello"


def test_verify_key_respects_not_before(ring: Keyring) -> None:
    info = ring.generate("token", now=T0)
    assert ring.verify_key("token", info.kid, T0 - timedelta(seconds=1)) is None
    assert ring.verify_key("token", info.kid.upper(), T0) is not None
    assert ring.verify_key("token", "00000000", T0) is None


def test_rotate_keeps_old_key_for_verification_during_overlap(ring: Keyring) -> None:
    old = ring.generate("token", now=T0)
    rotated_at = T0 + timedelta(days=10)
    new = ring.rotate("token", overlap_seconds=3600, now=rotated_at)
    assert new.kid != old.kid
    assert ring.signing_key("token", at=rotated_at)[0] == new
    end = rotated_at + timedelta(seconds=3600)
    (old_after,) = [k for k in ring.list() if k.kid == old.kid]
    assert old_after.not_after == end
    assert ring.verify_key("token", old.kid, end - timedelta(seconds=1)) is not None
    assert ring.verify_key("token", old.kid, end) is None
    assert ring.verify_key("token", new.kid, end + timedelta(days=365)) is not None


def test_rotate_default_overlap_is_seven_days(ring: Keyring) -> None:
    old = ring.generate("token", now=T0)
    ring.rotate("token", now=T0)
    assert DEFAULT_OVERLAP_SECONDS == 7 * 24 * 3600
    assert ring.verify_key("token", old.kid, T0 + timedelta(days=7, seconds=-1)) is not None
    assert ring.verify_key("token", old.kid, T0 + timedelta(days=7)) is None


def test_rotate_twice_does_not_extend_an_earlier_cutoff(ring: Keyring) -> None:
    first = ring.generate("token", now=T0)
    ring.rotate("token", overlap_seconds=60, now=T0)
    ring.rotate("token", overlap_seconds=3600, now=T0 + timedelta(seconds=10))
    (first_after,) = [k for k in ring.list() if k.kid == first.kid]
    assert first_after.not_after == T0 + timedelta(seconds=60)


def test_rotate_without_key_is_no_key(ring: Keyring) -> None:
    with pytest.raises(KeyringError) as err:
        ring.rotate("token")
    assert err.value.code == "no_key"


def test_retire_ends_validity_now(ring: Keyring) -> None:
    info = ring.generate("token", now=T0)
    ring.retire("token", info.kid, now=T0 + timedelta(hours=1))
    assert ring.verify_key("token", info.kid, T0 + timedelta(minutes=59)) is not None
    assert ring.verify_key("token", info.kid, T0 + timedelta(hours=1)) is None
    with pytest.raises(KeyringError) as err:
        ring.signing_key("token", at=T0 + timedelta(hours=2))
    assert err.value.code == "no_key"


def test_ensure_generates_once(ring: Keyring) -> None:
    first = ring.ensure("token")
    assert ring.ensure("token") == first
    assert len(ring.list()) == 1


def test_public_keys_are_json_with_base64_and_utc_iso(ring: Keyring) -> None:
    old = ring.generate("token", now=T0)
    new = ring.rotate("token", overlap_seconds=60, now=T0 + timedelta(seconds=30))
    ring.generate("checkpoint", now=T0)
    listed = json.loads(json.dumps(ring.public_keys("token", at=T0 + timedelta(seconds=31))))
    assert [k["kid"] for k in listed] == [old.kid, new.kid]
    first = listed[0]
    assert set(first) == {"kid", "purpose", "public_key", "not_before", "not_after"}
    assert first["purpose"] == "token"
    assert base64.b64decode(first["public_key"]) == old.public_key
    assert first["not_before"] == "2025-03-01T12:00:00Z"
    assert first["not_after"] == "2025-03-01T12:01:30Z"
    assert listed[1]["not_after"] is None
    later = ring.public_keys("token", at=T0 + timedelta(seconds=90))
    assert [k["kid"] for k in later] == [new.kid]


def test_keys_survive_a_new_keyring_instance(ring: Keyring) -> None:
    info = ring.generate("token", now=T0)
    again = Keyring(ring.directory)
    got, signing = again.signing_key("token", at=T0)
    assert got == info
    assert bytes(signing.verify_key) == info.public_key


def test_other_instance_sees_rotation(ring: Keyring) -> None:
    ring.generate("token", now=T0)
    reader = Keyring(ring.directory)
    assert len(reader.list()) == 1
    new = ring.rotate("token", overlap_seconds=60, now=T0)
    assert reader.signing_key("token", at=T0)[0] == new


def test_group_readable_key_file_is_refused(ring: Keyring) -> None:
    info = ring.generate("token", now=T0)
    os.chmod(ring.directory / info.filename, 0o640)
    with pytest.raises(KeyringError) as err:
        Keyring(ring.directory).signing_key("token", at=T0)
    assert err.value.code == "insecure_permissions"


def test_hex_seed_file_is_accepted(ring: Keyring) -> None:
    info = ring.generate("token", now=T0)
    path = ring.directory / info.filename
    seed = base64.b64decode(path.read_text())
    path.write_text(seed.hex() + "\n")
    _, signing = Keyring(ring.directory).signing_key("token", at=T0)
    assert bytes(signing) == seed


@pytest.mark.parametrize(
    "body",
    ["not a key\n", base64.b64encode(b"short").decode(), base64.b64encode(bytes(32)).decode()],
)
def test_damaged_or_mismatched_key_file_is_bad_keyfile(ring: Keyring, body: str) -> None:
    info = ring.generate("token", now=T0)
    (ring.directory / info.filename).write_text(body)
    with pytest.raises(KeyringError) as err:
        Keyring(ring.directory).signing_key("token", at=T0)
    assert err.value.code == "bad_keyfile"


def test_missing_key_file_is_bad_keyfile(ring: Keyring) -> None:
    info = ring.generate("token", now=T0)
    (ring.directory / info.filename).unlink()
    with pytest.raises(KeyringError) as err:
        Keyring(ring.directory).signing_key("token", at=T0)
    assert err.value.code == "bad_keyfile"
    assert ring.verify_key("token", info.kid, T0) is not None  # public side still works


@pytest.mark.parametrize("text", ["{not json", '{"version": 99, "keys": []}', '{"version": 1}'])
def test_corrupt_metadata_is_bad_keyring(ring: Keyring, text: str) -> None:
    ring.directory.mkdir(mode=0o700)
    (ring.directory / "keys.json").write_text(text)
    with pytest.raises(KeyringError) as err:
        ring.list()
    assert err.value.code == "bad_keyring"


def test_private_material_never_in_repr_or_logs(
    ring: Keyring, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    info = ring.generate("token", now=T0)
    ring.rotate("token", overlap_seconds=60, now=T0)
    signing_info, signing = ring.signing_key("token", at=T0)
    secrets_seen = []
    for kid in (info.kid, signing_info.kid):
        seed = base64.b64decode((ring.directory / f"token-{kid}.key").read_text())
        secrets_seen += [seed.hex(), base64.b64encode(seed).decode(), repr(seed)]
    shown = " ".join(
        [
            *(repr(ring), str(ring), repr(info), str(signing_info), repr(ring.list())),
            *(repr(signing), str(signing), f"{signing}", str((signing_info, signing))),
            caplog.text,
        ]
    )
    assert "token" in caplog.text  # something was logged
    for secret in secrets_seen:
        assert secret not in shown


def test_keys_module_imports_no_flask_and_no_actor_package() -> None:
    source = Path(__file__).resolve().parents[2] / "kindpakket" / "keys.py"
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported
    assert not imported & {"flask", "wallet", "merchant", "admin", "ledger"}


def test_refusals_are_codes_worded_in_the_readers_language(ring: Keyring, app, cli) -> None:  # type: ignore[no-untyped-def]
    from flask_babel import force_locale

    assert cli("keys", "generate", "--purpose", "pin").exit_code == 0
    again = cli("keys", "generate", "--purpose", "pin")
    assert again.exit_code == 2
    assert "key_exists: er is al een geldige sleutel voor pin; gebruik rotate" in again.output
    with pytest.raises(KeyringError) as err:
        ring.rotate("token")
    assert err.value.code == "no_key" and err.value.details == {"purpose": "token"}
    assert str(err.value) == "no_key: there is no valid token key to rotate; use generate"
    with app.app_context(), force_locale("nl"):
        dutch = err.value.message
    assert dutch == "geen geldige sleutel voor token om te roteren; gebruik generate"
