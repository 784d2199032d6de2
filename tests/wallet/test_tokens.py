"""Tests for the signed QR payment token (wallet/tokens.py)."""

from __future__ import annotations

import ast
import base64
import string
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nacl.signing import SigningKey, VerifyKey

from kindpakket.keys import Keyring
from wallet.tokens import (
    BASE32_CHARS,
    DEFAULT_TTL,
    DOMAIN,
    ERROR_CODES,
    MAX_TTL,
    PAYLOAD,
    PREFIX,
    QR_ALPHANUMERIC,
    TEXT_CHARS,
    KeyLookup,
    TokenError,
    decode_token,
    encode_token,
    issue_token,
    verify_token,
)

NOW = 1_740_000_000
KID = bytes.fromhex("a1b2c3d4")
KEY = SigningKey(bytes(range(32)))
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def lookup(kid: str, at: int) -> VerifyKey | None:
    """Know exactly one key, KID."""
    return KEY.verify_key if kid == KID.hex() else None


def code_of(text: str, now: int = NOW, **kwargs: int) -> str:
    """Return the TokenError code verify_token raises, or "ok"."""
    try:
        verify_token(text, lookup, now, **kwargs)
    except TokenError as err:
        return err.code
    return "ok"


def signed_text(payload: bytes, key: SigningKey = KEY) -> str:
    """Sign arbitrary payload bytes the way issue_token does."""
    return encode_token(payload, key.sign(DOMAIN + payload).signature)


def test_round_trip() -> None:
    issued = issue_token(4_294_967_297, (KID, KEY), NOW, nonce=b"\x01" * 12)
    assert issued.expires_at == NOW + DEFAULT_TTL
    assert issued.kid == "a1b2c3d4" and issued.nonce == "01" * 12
    token = verify_token(issued.text, lookup, NOW)
    assert token.voucher_id == 4_294_967_297
    assert token.expires_at == NOW + 120
    assert token.kid == "a1b2c3d4"
    assert token.nonce_hex == issued.nonce
    assert token.version == 1
    assert len(token.payload) == 29 and len(token.signature) == 64


def test_kid_may_be_given_as_hex_and_nonces_differ() -> None:
    first = issue_token(7, ("a1b2c3d4", KEY), NOW)
    second = issue_token(7, (KID, KEY), NOW)
    assert first.nonce != second.nonce and first.text != second.text
    assert verify_token(first.text, lookup, NOW).nonce_hex == first.nonce


def test_text_shape_is_fixed_length_qr_alphanumeric() -> None:
    text = issue_token(2**64 - 1, (KID, KEY), NOW, ttl=MAX_TTL).text
    assert text.startswith(PREFIX)
    assert len(text) == TEXT_CHARS == 153 and BASE32_CHARS == 149
    assert "=" not in text


@given(
    voucher_id=st.integers(0, 2**64 - 1),
    now=st.integers(0, 2**32 - 1 - MAX_TTL),
    ttl=st.integers(1, MAX_TTL),
)
def test_token_text_only_uses_qr_alphanumeric_chars(voucher_id: int, now: int, ttl: int) -> None:
    text = issue_token(voucher_id, (KID, KEY), now, ttl).text
    assert set(text) <= QR_ALPHANUMERIC
    assert decode_token(text).voucher_id == voucher_id


def test_decode_is_lenient_about_whitespace_and_case() -> None:
    issued = issue_token(42, (KID, KEY), NOW)
    messy = f"  \t{issued.text.lower()}\r\n"
    assert verify_token(messy, lookup, NOW).voucher_id == 42


@pytest.mark.parametrize(
    "text",
    [
        "",
        "https://example.org/pay?voucher=42",
        "KP1:",
        "KP2:" + "A" * 149,
        "KP1:" + "A" * 148,
        "KP1:" + "A" * 150,
        "KP1:" + "A" * 148 + "1",  # 1 is not base32
        "KP1:" + "A" * 148 + "=",
        "KP1 " + "A" * 149,
        "KP1:" + "A" * 70 + " " + "A" * 78,  # inner whitespace is not forgiven
        "KP1:" + "É" * 149,
        "KP1:" + "A" * 10_000,
    ],
)
def test_not_a_token(text: str) -> None:
    with pytest.raises(TokenError) as err:
        decode_token(text)
    assert err.value.code == "not_a_token"
    assert code_of(text) == "not_a_token"


def test_non_string_is_not_a_token() -> None:
    with pytest.raises(TokenError) as err:
        decode_token(b"KP1:AAAA")  # type: ignore[arg-type]
    assert err.value.code == "not_a_token"


def test_non_canonical_last_character_is_not_a_token() -> None:
    text = issue_token(9, (KID, KEY), NOW).text
    last = BASE32.index(text[-1])
    assert last % 2 == 0  # the unused low bit is zero in canonical form
    twin = text[:-1] + BASE32[last | 1]
    assert base64.b32decode(twin[4:] + "===") == base64.b32decode(text[4:] + "===")
    assert code_of(twin) == "not_a_token"


def test_bad_version() -> None:
    payload = PAYLOAD.pack(2, KID, 5, NOW + 60, bytes(12))
    assert code_of(signed_text(payload)) == "bad_version"


def test_unknown_key() -> None:
    text = issue_token(5, (bytes.fromhex("00000000"), KEY), NOW).text
    assert code_of(text) == "unknown_key"


def test_signed_by_another_key_with_a_known_kid_is_bad_signature() -> None:
    forger = SigningKey.generate()
    assert code_of(issue_token(5, (KID, forger), NOW).text) == "bad_signature"


def test_altered_payload_is_bad_signature() -> None:
    issued = issue_token(5, (KID, KEY), NOW)
    token = decode_token(issued.text)
    altered = PAYLOAD.pack(1, KID, 6, token.expires_at, token.nonce)
    assert code_of(encode_token(altered, token.signature)) == "bad_signature"


def test_signature_without_domain_separation_is_refused() -> None:
    payload = PAYLOAD.pack(1, KID, 5, NOW + 60, bytes(12))
    plain = KEY.sign(payload).signature
    assert code_of(encode_token(payload, plain)) == "bad_signature"


def test_every_single_character_change_is_refused() -> None:
    text = issue_token(123_456, (KID, KEY), NOW).text
    codes: set[str] = set()
    for position in range(len(PREFIX), len(text)):
        for char in BASE32:
            if char == text[position]:
                continue
            codes.add(code_of(text[:position] + char + text[position + 1 :]))
    # A changed version byte may surface as bad_version; anything else must not pass.
    assert codes <= {"bad_signature", "not_a_token", "unknown_key", "bad_version"}
    assert "bad_signature" in codes and "not_a_token" in codes


def test_expiry_edges_with_skew() -> None:
    text = issue_token(5, (KID, KEY), NOW, ttl=120).text
    assert code_of(text, now=NOW + 120) == "ok"
    assert code_of(text, now=NOW + 125) == "ok"  # expires_at + skew passes
    assert code_of(text, now=NOW + 126) == "token_expired"
    assert code_of(text, now=NOW + 120, skew=0) == "ok"
    assert code_of(text, now=NOW + 121, skew=0) == "token_expired"


def test_not_yet_valid_edges() -> None:
    text = issue_token(5, (KID, KEY), NOW, ttl=MAX_TTL).text
    assert code_of(text, now=NOW) == "ok"
    assert code_of(text, now=NOW - 5) == "ok"  # issued 5 s "in the future": skew allows it
    assert code_of(text, now=NOW - 6) == "token_not_yet_valid"
    assert code_of(text, now=NOW - 6, max_ttl=MAX_TTL + 1) == "ok"


def test_expired_check_comes_after_signature() -> None:
    forger = SigningKey.generate()
    text = issue_token(5, (KID, forger), NOW).text
    assert code_of(text, now=NOW + 10_000) == "bad_signature"


@pytest.mark.parametrize(
    ("voucher_id", "kid", "ttl"),
    [(-1, KID, 120), (2**64, KID, 120), (1, b"abc", 120), (1, KID, 0), (1, KID, MAX_TTL + 1)],
)
def test_issue_refuses_bad_arguments(voucher_id: int, kid: bytes, ttl: int) -> None:
    with pytest.raises(ValueError):
        issue_token(voucher_id, (kid, KEY), NOW, ttl)


def test_issue_refuses_expiry_beyond_u32() -> None:
    with pytest.raises(ValueError):
        issue_token(1, (KID, KEY), 2**32 - 60, ttl=120)


def test_error_codes_are_fixed() -> None:
    assert {
        "not_a_token",
        "bad_version",
        "unknown_key",
        "bad_signature",
        "token_expired",
        "token_not_yet_valid",
    } == ERROR_CODES
    assert TokenError("token_expired").code == "token_expired"
    with pytest.raises(ValueError):
        TokenError("no_such_code")


def _lookup_in(ring: Keyring) -> KeyLookup:
    """Adapt a keyring to the lookup_key callable verify_token expects."""

    def lookup_key(kid: str, at: int) -> VerifyKey | None:
        return ring.verify_key("token", kid, datetime.fromtimestamp(at, UTC))

    return lookup_key


def test_rotation_keeps_shown_tokens_valid_during_overlap(tmp_path: Path) -> None:
    ring = Keyring(tmp_path / "keys")
    ring.generate("token", now=datetime.fromtimestamp(NOW - 3600, UTC))
    old_info, old_key = ring.signing_key("token", at=datetime.fromtimestamp(NOW, UTC))
    shown = issue_token(77, (old_info.kid_bytes, old_key), NOW - 10).text

    new_info = ring.rotate("token", overlap_seconds=60, now=datetime.fromtimestamp(NOW, UTC))
    signer, new_key = ring.signing_key("token", at=datetime.fromtimestamp(NOW, UTC))
    assert signer == new_info != old_info
    fresh = issue_token(78, (signer.kid_bytes, new_key), NOW).text

    lookup_key = _lookup_in(ring)
    assert verify_token(shown, lookup_key, NOW + 30).voucher_id == 77
    assert verify_token(fresh, lookup_key, NOW + 30).voucher_id == 78
    with pytest.raises(TokenError) as err:
        verify_token(shown, lookup_key, NOW + 60)  # old key's not_after; token not yet expired
    assert err.value.code == "unknown_key"
    assert verify_token(fresh, lookup_key, NOW + 60).voucher_id == 78


def test_rotation_with_default_overlap_outlives_token_lifetime(tmp_path: Path) -> None:
    ring = Keyring(tmp_path / "keys")
    ring.generate("token", now=datetime.fromtimestamp(NOW - 3600, UTC))
    info, key = ring.signing_key("token", at=datetime.fromtimestamp(NOW, UTC))
    shown = issue_token(77, (info.kid_bytes, key), NOW).text
    ring.rotate("token", now=datetime.fromtimestamp(NOW + 1, UTC))
    assert verify_token(shown, _lookup_in(ring), NOW + DEFAULT_TTL).voucher_id == 77


@given(st.text(max_size=300))
def test_fuzz_random_text_only_raises_token_error(text: str) -> None:
    try:
        decode_token(text)
        verify_token(text, lookup, NOW)
    except TokenError as err:
        assert err.code in ERROR_CODES


@given(st.text(alphabet=BASE32 + string.ascii_lowercase + " =", min_size=140, max_size=160))
def test_fuzz_near_tokens_only_raise_token_error(body: str) -> None:
    try:
        verify_token(PREFIX + body, lookup, NOW)
    except TokenError as err:
        assert err.code in ERROR_CODES
    else:  # pragma: no cover - would be a forgery
        pytest.fail("random text verified as a token")


@given(st.binary(min_size=93, max_size=93))
def test_fuzz_any_93_bytes_decode_or_refuse_version(raw: bytes) -> None:
    text = encode_token(raw[:29], raw[29:])
    try:
        token = decode_token(text)
    except TokenError as err:
        assert err.code == "bad_version" and raw[0] != 1
    else:
        assert token.payload + token.signature == raw


def test_tokens_module_is_pure() -> None:
    source = Path(__file__).resolve().parents[2] / "wallet" / "tokens.py"
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert "nacl" in imported
    assert not imported & {"flask", "sqlalchemy", "kindpakket", "merchant", "admin"}
