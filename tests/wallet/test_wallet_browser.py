"""A parent in Debian chromium: activate, choose a PIN, see budgets, pay; the QR renews itself."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from kindpakket.keys import Keyring
from tests.browser import kit
from tests.wallet.conftest import CODE, PIN, World
from wallet import services

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("KINDPAKKET_SCREENSHOTS")  # a directory to keep the screenshots in


@pytest.fixture
def app_config(app_config: dict[str, object]) -> dict[str, object]:
    """Use 8-second codes so the renewal happens within the test."""
    return {**app_config, "TOKEN_TTL_SECONDS": 8}


def accepted(session: Session, app, text: str) -> int:  # type: ignore[no-untyped-def]
    """Verify a token with the server's own verifier; return its voucher id."""
    ring = Keyring(Path(app.config["KEY_DIR"]))
    try:
        _payload, voucher = services.verify_payment_token(
            session, text, now=None, keyring=ring, skew=2
        )
        return voucher.id
    finally:
        session.rollback()  # SQLite: do not hold a lock the live server needs


def shot(page, name: str, tmp_path: Path) -> bytes:  # type: ignore[no-untyped-def]
    """Take a screenshot (kept in $KINDPAKKET_SCREENSHOTS when set)."""
    target = Path(SHOTS) if SHOTS else tmp_path
    png: bytes = page.screenshot(path=str(target / f"{name}.png"), full_page=True)
    return png


def test_parent_activates_pays_and_the_code_renews(  # type: ignore[no-untyped-def]
    app, session: Session, world: World, tmp_path: Path
) -> None:
    kit.require_chromium()
    vid = world.vouchers[0].id
    with kit.live_server(app) as base, kit.browser_page(viewport=(360, 740)) as page:
        errors = kit.watch_errors(page)
        page.goto(f"{base}/wallet/activate?code={CODE.lower()}")
        assert page.input_value("#code") == CODE
        page.get_by_label("Kies een pincode").fill(PIN)
        page.get_by_label("Typ de pincode nog een keer").fill(PIN)
        page.get_by_role("button", name="Pincode opslaan en inloggen").click()
        page.wait_for_url(f"{base}/wallet/")
        body = page.locator("main").inner_text()
        assert "Anouk" in body and "Daan" in body and "€ 300,00" in body
        assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll
        shot(page, "wallet-home", tmp_path)

        page.get_by_role("link", name="Betalen voor Anouk").click()
        page.wait_for_url(f"{base}/wallet/pay/{vid}")
        expect(page.locator("#token-text")).to_contain_text("KP1:")
        page.evaluate("window.kpNoReload = true")
        first = page.locator("#token-text").text_content() or ""
        assert first.startswith("KP1:")
        assert "Anouk" in (page.locator("#qr").get_attribute("alt") or "")
        code = page.locator("#pay-code").inner_text()
        assert len(code.replace(" ", "")) == 8 and code.replace(" ", "").isdigit()
        assert first in kit.decode_qr_png(shot(page, "wallet-pay", tmp_path))
        assert accepted(session, app, first) == vid

        page.wait_for_function(
            "t => document.getElementById('token-text').textContent !== t",
            arg=first,
            timeout=20_000,
        )
        second = page.locator("#token-text").text_content() or ""
        assert second != first and second.startswith("KP1:")
        assert page.evaluate("window.kpNoReload") is True  # renewed without a reload
        assert second in kit.decode_qr_png(page.screenshot(full_page=True))
        assert accepted(session, app, second) == vid
        assert page.locator("#pay-code").inner_text() != code
        assert errors == []
