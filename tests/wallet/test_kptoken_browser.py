"""The browser twin kptoken.js agrees with wallet/tokens.py, in Debian chromium (WebCrypto)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from nacl.signing import SigningKey, VerifyKey
from playwright.sync_api import Page, sync_playwright

from kindpakket.keys import Keyring
from tests.browser import kit
from wallet.tokens import PAYLOAD, TokenError, encode_token, issue_token, verify_token

pytestmark = pytest.mark.browser

NOW = 1_740_000_000
JS_DIR = Path(__file__).resolve().parents[2] / "kindpakket" / "static" / "js"
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

CALL = """async ([fn, text, keys, now]) => {
  const m = await import('/js/kptoken.js');
  try {
    const t = fn === 'decode' ? m.decodeToken(text) : await m.verifyToken(text, keys, now);
    return {code: 'ok', kid: t.kid, voucherId: t.voucherId.toString(),
            expiresAt: t.expiresAt, nonceHex: t.nonceHex, version: t.version,
            payloadLength: t.payload.length, signatureLength: t.signature.length};
  } catch (err) {
    return {code: err.code || ('untyped: ' + err)};
  }
}"""

BATCH = """async ([texts, keys, now]) => {
  const m = await import('/js/kptoken.js');
  const codes = [];
  for (const text of texts) {
    try { await m.verifyToken(text, keys, now); codes.push('ok'); }
    catch (err) { codes.push(err.code || ('untyped: ' + err)); }
  }
  return codes;
}"""


def at(seconds: int) -> datetime:
    """Return a UTC datetime for unix seconds."""
    return datetime.fromtimestamp(seconds, UTC)


@pytest.fixture(scope="module")
def tab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    """Yield a chromium page on a 127.0.0.1 origin (a secure context) that can import kptoken."""
    kit.require_chromium()
    root = tmp_path_factory.mktemp("kptoken-site")
    (root / "index.html").write_text("<!doctype html><title>kptoken</title>", encoding="utf-8")
    with (
        kit.serve_directory(root, mounts={"/js": JS_DIR}) as base,
        sync_playwright() as playwright,
    ):
        browser = kit.launch(playwright)
        try:
            opened = browser.new_page()
            opened.goto(f"{base}/index.html")
            assert opened.evaluate("window.isSecureContext") is True
            yield opened
        finally:
            browser.close()


@pytest.fixture(scope="module")
def ring(tmp_path_factory: pytest.TempPathFactory) -> Keyring:
    """Return a keyring whose first token key was made an hour before NOW."""
    keyring = Keyring(tmp_path_factory.mktemp("ring") / "keys")
    keyring.generate("token", now=at(NOW - 3600))
    return keyring


def js(tab: Page, fn: str, text: str, keys: Any = None, now: int = NOW) -> dict[str, Any]:
    """Run decodeToken or verifyToken in the page and return its result or error code."""
    result: dict[str, Any] = tab.evaluate(CALL, [fn, text, keys, now])
    return result


def issued_by(ring: Keyring, voucher_id: int, now: int = NOW) -> str:
    """Issue a token with the keyring's current signing key."""
    info, key = ring.signing_key("token", at=at(now))
    return issue_token(voucher_id, (info.kid_bytes, key), now).text


def test_python_token_verifies_in_browser(tab: Page, ring: Keyring) -> None:
    info, key = ring.signing_key("token", at=at(NOW))
    issued = issue_token(2**63 + 5, (info.kid_bytes, key), NOW)
    result = js(tab, "verify", issued.text, ring.public_keys("token", at=at(NOW)))
    assert result == {
        "code": "ok",
        "kid": info.kid,
        "voucherId": str(2**63 + 5),
        "expiresAt": issued.expires_at,
        "nonceHex": issued.nonce,
        "version": 1,
        "payloadLength": 29,
        "signatureLength": 64,
    }


def test_lowercase_with_whitespace_verifies(tab: Page, ring: Keyring) -> None:
    text = f"  {issued_by(ring, 8).lower()}\n"
    assert js(tab, "verify", text, ring.public_keys("token", at=at(NOW)))["code"] == "ok"


def test_altered_token_is_bad_signature(tab: Page, ring: Keyring) -> None:
    text = issued_by(ring, 9)
    position = 80  # inside the signature
    altered = text[:position] + ("B" if text[position] == "A" else "A") + text[position + 1 :]
    keys = ring.public_keys("token", at=at(NOW))
    assert js(tab, "verify", altered, keys)["code"] == "bad_signature"


def test_expired_token(tab: Page, ring: Keyring) -> None:
    text = issued_by(ring, 10)
    keys = ring.public_keys("token", at=at(NOW))
    assert js(tab, "verify", text, keys, now=NOW + 125)["code"] == "ok"
    assert js(tab, "verify", text, keys, now=NOW + 126)["code"] == "token_expired"


def test_token_from_the_future_is_not_yet_valid(tab: Page, ring: Keyring) -> None:
    text = issued_by(ring, 11, now=NOW + 2000)
    keys = ring.public_keys("token", at=at(NOW))
    assert js(tab, "verify", text, keys)["code"] == "token_not_yet_valid"


def test_unknown_kid(tab: Page, ring: Keyring) -> None:
    text = issue_token(12, (bytes(4), SigningKey.generate()), NOW).text
    assert js(tab, "verify", text, ring.public_keys("token", at=at(NOW)))["code"] == "unknown_key"


def test_key_of_other_purpose_is_unknown(tab: Page, tmp_path: Path) -> None:
    keyring = Keyring(tmp_path / "keys")
    keyring.generate("checkpoint", now=at(NOW - 60))
    info, key = keyring.signing_key("checkpoint", at=at(NOW))
    text = issue_token(13, (info.kid_bytes, key), NOW).text
    published = [{**k, "purpose": "token"} for k in keyring.public_keys("checkpoint")]
    assert js(tab, "verify", text, published)["code"] == "ok"  # control: same key as "token"
    keys = keyring.public_keys("checkpoint")
    assert js(tab, "verify", text, keys)["code"] == "unknown_key"


def test_old_key_refused_after_its_not_after(tab: Page, tmp_path: Path) -> None:
    keyring = Keyring(tmp_path / "keys")
    keyring.generate("token", now=at(NOW - 3600))
    shown = issued_by(keyring, 14, now=NOW - 10)
    keyring.rotate("token", overlap_seconds=60, now=at(NOW))
    keys = keyring.public_keys("token", at=at(NOW))  # as fetched before the cutoff
    assert len(keys) == 2
    assert js(tab, "verify", shown, keys, now=NOW + 59)["code"] == "ok"
    assert js(tab, "verify", shown, keys, now=NOW + 60)["code"] == "unknown_key"


@pytest.mark.parametrize(
    "text",
    ["https://example.org/pay?voucher=42", "", "KP1:", "KP1:" + "A" * 148 + "1", "hello world"],
)
def test_not_a_token(tab: Page, text: str) -> None:
    assert js(tab, "decode", text)["code"] == "not_a_token"
    assert js(tab, "verify", text, [])["code"] == "not_a_token"


def test_non_canonical_last_character_is_not_a_token(tab: Page, ring: Keyring) -> None:
    text = issued_by(ring, 15)
    twin = text[:-1] + BASE32[BASE32.index(text[-1]) | 1]
    assert twin != text
    assert js(tab, "decode", twin)["code"] == "not_a_token"


def test_bad_version(tab: Page, ring: Keyring) -> None:
    info, key = ring.signing_key("token", at=at(NOW))
    payload = PAYLOAD.pack(2, info.kid_bytes, 1, NOW + 60, bytes(12))
    text = encode_token(payload, key.sign(b"KP1" + payload).signature)
    assert js(tab, "decode", text)["code"] == "bad_version"


def test_browser_and_python_agree_on_mutations(tab: Page, ring: Keyring) -> None:
    keys = ring.public_keys("token", at=at(NOW))
    text = issued_by(ring, 16)
    rng = random.Random(20250301)
    texts = [text, text.lower(), text + "A", text[:-1], text.replace("KP1:", "KP2:")]
    for _ in range(200):
        position = rng.randrange(len("KP1:"), len(text))
        texts.append(text[:position] + rng.choice(BASE32) + text[position + 1 :])

    def python_code(candidate: str) -> str:
        def lookup(kid: str, when: int) -> VerifyKey | None:
            return ring.verify_key("token", kid, at(when))

        try:
            verify_token(candidate, lookup, NOW)
        except TokenError as err:
            return err.code
        return "ok"

    browser_codes = tab.evaluate(BATCH, [texts, keys, NOW])
    assert browser_codes == [python_code(candidate) for candidate in texts]
    assert {"ok", "bad_signature", "not_a_token"} <= set(browser_codes)
