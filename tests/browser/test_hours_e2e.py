"""A shop owner enters opening hours by keyboard at 360 px; families find them on the public list.

Both pages pass axe (WCAG 2.1 AA) at 360 and 1280 px, with the refusal shown and with a
shop's week unfolded, and neither scrolls sideways on a phone.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests import factories as fx
from tests.browser import kit
from tests.browser.test_accessibility import AXE_URL_PATH, _serve_axe, axe_violations

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True, scope="module")
def _chromium() -> None:
    kit.require_chromium()


def _problems(page: Page, base: str, shots: Path, name: str) -> list[str]:
    """Return axe's findings and sideways scrolling at 360 and 1280 px (screenshots kept)."""
    found = []
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        found += [f"{width}px: {v}" for v in axe_violations(page, base)]
        wide = page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth")
        found += [f"{width}px: scrolls sideways"] if wide else []
        page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 360, "height": 800})
    return found


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_owner_enters_hours_and_the_public_list_shows_them(
    app: Flask, engine: Engine, tmp_path: Path
) -> None:
    with Session(engine) as s:
        fund = fx.fund(s, fx.municipality(s))
        fx.shop(s, fund)
        s.commit()
    app.config["RATELIMIT_ENABLED"] = False
    with kit.live_server(app) as base, kit.browser_page(viewport=(360, 800)) as page:
        page.route(f"{base}{AXE_URL_PATH}", _serve_axe)
        errors = kit.watch_errors(page)
        page.goto(f"{base}/merchant/login")
        page.get_by_label("E-mailadres").fill("eigenaar@spaak.example")
        page.get_by_label("Wachtwoord").fill(fx.PASSWORD)
        page.get_by_label("Wachtwoord").press("Enter")
        page.wait_for_url("**/merchant/scan")
        page.goto(f"{base}/merchant/")
        page.get_by_role("link", name="Openingstijden wijzigen").click()
        page.wait_for_url("**/merchant/hours")

        monday = page.get_by_role("group", name="Maandag")
        monday.get_by_label("Opent", exact=True).fill("9:00")
        page.keyboard.press("Tab")  # the next field is Monday's closing time
        page.keyboard.type("12:30")
        monday.get_by_label("Opent weer").fill("13:30")
        monday.get_by_label("Sluit weer").fill("17.30")
        saturday = page.get_by_role("group", name="Zaterdag")
        saturday.get_by_label("Opent", exact=True).fill("16:00")
        saturday.get_by_label("Sluit", exact=True).fill("10:00")  # closes before it opens
        page.get_by_label("Opmerking (niet verplicht)").fill("Gesloten op feestdagen")
        page.get_by_role("button", name="Openingstijden opslaan").click()

        alert = page.get_by_role("alert")
        assert "Zaterdag: de sluitingstijd (10:00) moet na de openingstijd (16:00)" in (
            alert.inner_text()
        )
        assert saturday.get_by_label("Opent", exact=True).get_attribute("aria-invalid") == "true"
        assert _problems(page, base, tmp_path, "hours-refused") == []
        assert [e for e in errors if "status of 400" not in e] == []  # the refusal is a 400
        errors.clear()
        alert.get_by_role("link").first.click()  # the summary leads to the day to correct
        assert page.evaluate("() => document.activeElement.id") == "saturday_1_opens"
        page.keyboard.press("Control+A")  # the link put focus on the field: type over it
        page.keyboard.type("10:00")
        saturday.get_by_label("Sluit", exact=True).fill("16:00")
        page.get_by_role("button", name="Openingstijden opslaan").click()
        page.wait_for_url("**/merchant/#hours")  # the saved week, on the shop's page
        assert page.get_by_text("De openingstijden zijn opgeslagen.").is_visible()

        page.goto(f"{base}/open/voorbeeld/shops")
        card = page.locator("li.card", has_text="Fietsenwinkel De Spaak")
        assert card.locator(".open-now").is_visible()
        card.locator("summary").focus()
        page.keyboard.press("Enter")  # unfold the week by keyboard
        week = card.get_by_role("table", name="Openingstijden van Fietsenwinkel De Spaak")
        assert week.get_by_role("row", name="Maandag").inner_text().split("\t")[1] == (
            "09:00–12:30, 13:30–17:30"
        )
        assert "10:00–16:00" in week.get_by_role("row", name="Zaterdag").inner_text()
        assert "Gesloten" in week.get_by_role("row", name="Zondag").inner_text()
        assert card.get_by_text("Gesloten op feestdagen").is_visible()
        assert _problems(page, base, tmp_path, "where-to-spend") == []

        page.get_by_label("Zoek op naam, straat of plaats").fill("bakkerij")
        page.get_by_label("Zoek op naam, straat of plaats").press("Enter")
        page.wait_for_url("**q=bakkerij**")
        assert (
            page.get_by_role("status")
            .inner_text()
            .startswith("Geen winkel gevonden voor “bakkerij”.")
        )
        assert errors == []
