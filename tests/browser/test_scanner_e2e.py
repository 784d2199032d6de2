"""End to end in Debian chromium: the wallet's real QR, a fake camera, the shop's scanner page.

The QR is cut from a screenshot of the wallet's pay page and fed to the scanner through
chromium's fake camera; the cashier types the amount, the payment succeeds, and the wallet's
history shows it. Also: the typed-code path, and a refusal shown on the page.
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Page, expect, sync_playwright
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.browser import kit
from tests.merchant.conftest import FAMILY_CODE, FAMILY_PIN, World, build_world

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "bench" / "results" / "screens"


@pytest.fixture(autouse=True, scope="module")
def _chromium() -> None:
    kit.require_chromium()


@pytest.fixture
def database_url(sqlite_template: Path, tmp_path: Path) -> str:
    """SQLite only: the browser path is the same on both engines (the API tests run both)."""
    target = tmp_path / "kindpakket.db"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def e2e_world(engine: Engine, app_config: dict[str, Any]) -> World:
    """The world committed for the live server."""
    from kindpakket.keys import Keyring

    ring = Keyring(Path(str(app_config["INSTANCE_DIR"])) / "keys")
    ring.ensure("token")
    with Session(engine, expire_on_commit=False) as s:
        return build_world(s, ring)


def _family_shows_qr(page: Page, base: str, voucher_id: int) -> tuple[bytes, str]:
    """Activate the wallet, open the pay page; return a screenshot of the QR and the code."""
    page.goto(f"{base}/wallet/activate")
    page.fill("input[name=code]", FAMILY_CODE)
    page.fill("input[name=pin]", FAMILY_PIN)
    page.fill("input[name=pin_again]", FAMILY_PIN)
    page.click("button[type=submit]")
    page.goto(f"{base}/wallet/pay/{voucher_id}")
    qr = page.locator("#qr")
    expect(qr).to_have_attribute("src", re.compile("^data:image/svg"))
    code = re.sub(r"\D", "", page.locator("#pay-code").inner_text())
    return qr.screenshot(), code


def _cashier_logs_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/merchant/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/merchant/scan"))


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def test_camera_scan_pays_and_the_wallet_shows_it(
    app: Any, e2e_world: World, tmp_path: Path
) -> None:
    w = e2e_world
    with kit.live_server(app) as base, sync_playwright() as pw:
        family = kit.new_page(kit.launch(pw))
        png, _code = _family_shows_qr(family, base, w.vouchers[0].id)
        texts = kit.decode_qr_png(png)
        assert len(texts) == 1 and texts[0].startswith("KP1:")
        y4m = kit.write_y4m(Image.open(io.BytesIO(png)), tmp_path / "qr.y4m")

        cashier = kit.new_page(kit.launch(pw, y4m), camera=True)
        errors = kit.watch_errors(cashier)
        _cashier_logs_in(cashier, base, w.cashier.email)
        expect(cashier.locator("#step-amount")).to_be_visible(timeout=15_000)
        expect(cashier.locator("#amount")).to_be_focused()
        title = cashier.locator("#amount-title")
        expect(title).to_have_text("De code is geldig. Vul het bedrag in")
        cashier.keyboard.type("12,50")
        cashier.keyboard.press("Enter")
        expect(cashier.locator("#result-title")).to_have_text("Betaald")
        details = cashier.locator("#result-details")
        expect(details).to_contain_text("€ 12,50")
        receipt = cashier.locator("#receipt-number").inner_text()
        assert re.fullmatch(r"B-\d{6}", receipt)
        expect(details).to_contain_text("€ 287,50")  # this fund shows balances to shops
        expect(cashier.locator("#retry")).to_be_hidden()
        expect(cashier.locator("#lower")).to_be_hidden()
        _shot(cashier, "scanner-paid-360")
        assert errors == []

        family.goto(f"{base}/wallet/history")
        expect(family.locator("main")).to_contain_text("12,50")
        expect(family.locator("main")).to_contain_text(receipt)


def test_typed_code_pays_and_a_reused_code_is_refused_in_plain_words(
    app: Any, e2e_world: World
) -> None:
    w = e2e_world
    with kit.live_server(app) as base, sync_playwright() as pw:
        family = kit.new_page(kit.launch(pw))
        _png, code = _family_shows_qr(family, base, w.vouchers[1].id)
        assert len(code) == 8
        cashier = kit.new_page(kit.launch(pw), camera=False)
        errors = kit.watch_errors(cashier)
        _cashier_logs_in(cashier, base, w.cashier.email)
        # Without camera permission the page falls back to typing the code.
        expect(cashier.locator("#step-code")).to_be_visible(timeout=10_000)
        cashier.fill("#payment-code", code)
        cashier.press("#payment-code", "Enter")
        # Nothing has checked a typed code yet: the page must not call it valid.
        expect(cashier.locator("#amount-title")).to_have_text(
            "Vul het bedrag in. De code wordt gecontroleerd als u bevestigt."
        )
        cashier.fill("#amount", "7.5")
        cashier.click("#pay")
        expect(cashier.locator("#result-title")).to_have_text("Betaald")
        expect(cashier.locator("#result-details")).to_contain_text("€ 7,50")
        cashier.click("#next")

        expect(cashier.locator("#step-code")).to_be_visible()
        cashier.fill("#payment-code", code)
        cashier.press("#payment-code", "Enter")
        cashier.fill("#amount", "1,00")
        cashier.click("#pay")
        expect(cashier.locator("#result-box")).to_have_attribute("role", "alert")
        expect(cashier.locator("#result-title")).to_have_text("Niet betaald")
        # A typed code gets one answer for unknown, used and expired: guessing learns nothing.
        expect(cashier.locator("#result-message")).to_have_text(
            "Deze betaalcode is niet geldig. Controleer de cijfers, "
            "of vraag het gezin om een nieuwe code."
        )
        expect(cashier.locator("#result-details")).to_contain_text("payment_code_invalid")
        _shot(cashier, "scanner-refused-360")
        assert cashier.evaluate("document.documentElement.scrollWidth") <= 360
        # The refusal's HTTP 404 is the only console line.
        assert [e for e in errors if "404 (NOT FOUND)" not in e or "redemptions" not in e] == []
