"""End to end in Debian chromium: a printed pass, read by the fake camera, paid with the PIN pad.

The pass is rendered from the very PDF the municipality prints (pdftoppm), fed to the
scanner through chromium's fake camera; the cashier types the amount, the family types a
wrong PIN on the pad (asked again), then the right one with the keyboard: paid, with a
receipt. The PIN pad passes axe (WCAG 2.1 AA) at 360 px and has labelled keys.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Route, expect, sync_playwright
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from admin.funds.letter_texts import pass_texts
from admin.passes import printing as passprint
from tests.browser import kit
from tests.browser.test_accessibility import AXE, AXE_URL_PATH, axe_violations
from tests.browser.test_scanner_e2e import _cashier_logs_in, _shot
from tests.merchant.conftest import World, build_world
from wallet import passes

pytestmark = pytest.mark.browser


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
def printed(engine: Engine, app_config: dict[str, Any], tmp_path: Path) -> tuple[World, Path, str]:
    """The world, a camera file showing the printed pass, and the pass's PIN."""
    from kindpakket.keys import Keyring

    ring = Keyring(Path(str(app_config["INSTANCE_DIR"])) / "keys")
    ring.ensure("token")
    with Session(engine, expire_on_commit=False) as s:
        world = build_world(s, ring)
        issued = passes.issue_passes(s, world.fund, ring, actor="cli")[0]
        s.commit()
    pdf = tmp_path / "pass.pdf"
    card = passprint.Card(issued.number, issued.code, issued.fund_name)
    pdf.write_bytes(passprint.render_cards([card], pass_texts, layout="card"))
    subprocess.run(
        ["pdftoppm", "-r", "180", "-png", "-singlefile", str(pdf), str(tmp_path / "pass")],
        check=True,
    )
    picture = Image.open(tmp_path / "pass.png")
    assert kit.decode_qr_png((tmp_path / "pass.png").read_bytes()) == [issued.code]
    assert issued.pin is not None
    return world, kit.write_y4m(picture, tmp_path / "pass.y4m"), issued.pin


def test_a_printed_pass_pays_after_the_pin_is_typed_on_the_pad(
    app: Any, printed: tuple[World, Path, str]
) -> None:
    world, y4m, pin = printed
    with kit.live_server(app) as base, sync_playwright() as pw:
        cashier = kit.new_page(kit.launch(pw, y4m), camera=True)
        errors = kit.watch_errors(cashier)
        _cashier_logs_in(cashier, base, world.cashier.email)
        expect(cashier.locator("#step-amount")).to_be_visible(timeout=15_000)
        cashier.keyboard.type("12,50")
        cashier.keyboard.press("Enter")

        expect(cashier.locator("#step-pin")).to_be_visible()
        expect(cashier.locator("#pin")).to_be_focused()
        expect(cashier.locator("#pin-amount")).to_have_text("€ 12,50")
        assert cashier.get_attribute("#pin", "type") == "password"  # the digits stay hidden
        for digit in "97531":
            cashier.click(f'.pin-key[data-digit="{digit}"]')
        assert cashier.input_value("#pin") == "97531"
        cashier.click("#pin-pay")
        # A wrong PIN asks again for the same payment, saying how many tries are left.
        expect(cashier.locator("#pin-error")).to_contain_text("Verkeerde pincode")
        expect(cashier.locator("#step-pin")).to_be_visible()
        expect(cashier.locator("#pin")).to_have_value("")

        cashier.route(f"{base}{AXE_URL_PATH}", _serve_axe)
        assert axe_violations(cashier, base) == []
        assert cashier.evaluate("document.documentElement.scrollWidth") <= 360
        labels = cashier.eval_on_selector_all(
            ".pin-key", "keys => keys.map(k => k.getAttribute('aria-label'))"
        )
        assert len(labels) == 12 and all(labels) and "Cijfer 7" in labels
        _shot(cashier, "scanner-pin-pad-360")

        cashier.focus("#pin")
        cashier.keyboard.type(pin)  # a keyboard works as well as the pad
        cashier.keyboard.press("Enter")
        expect(cashier.locator("#result-title")).to_have_text("Betaald")
        expect(cashier.locator("#result-details")).to_contain_text("€ 12,50")
        assert re.fullmatch(r"B-\d{6}", cashier.locator("#receipt-number").inner_text())
        # The wrong PIN's HTTP 401 is the only console line.
        assert [e for e in errors if "401" not in e] == []


def test_a_blocked_pass_is_refused_on_the_scanner_in_plain_words(
    app: Any, engine: Engine, printed: tuple[World, Path, str]
) -> None:
    world, y4m, pin = printed
    with Session(engine) as s:
        from wallet.passmodels import Pass

        row = s.query(Pass).one()
        passes.block_pass(s, row, reason="lost", actor="admin:1")
        s.commit()
    with kit.live_server(app) as base, sync_playwright() as pw:
        cashier = kit.new_page(kit.launch(pw, y4m), camera=True)
        _cashier_logs_in(cashier, base, world.cashier.email)
        expect(cashier.locator("#step-amount")).to_be_visible(timeout=15_000)
        cashier.keyboard.type("5")
        cashier.keyboard.press("Enter")
        cashier.locator("#pin").fill(pin)
        cashier.keyboard.press("Enter")
        expect(cashier.locator("#result-title")).to_have_text("Niet betaald")
        expect(cashier.locator("#result-message")).to_have_text(
            "Pas geblokkeerd — bel de gemeente."
        )


def _serve_axe(route: Route) -> None:
    route.fulfill(path=str(AXE), content_type="text/javascript")
