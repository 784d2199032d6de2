"""An administrator logs in, reads the dashboard, exports a CSV, settles and gets the SEPA file."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from admin.settlement import sepa
from tests.admin import workload as w
from tests.browser import kit

rapp = w.rapp  # fixture

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True, scope="module")
def _chromium() -> None:
    kit.require_chromium()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_admin_reports_and_settles_in_a_browser(
    rapp: Flask,
    engine: Engine,
    tmp_path: Path,
) -> None:
    with Session(engine, expire_on_commit=False) as s:
        world = w.seed(s)
        w.generate(s, world, payments=25)
        s.commit()
    rapp.config["RATELIMIT_ENABLED"] = False
    with kit.live_server(rapp) as base, kit.browser_page(viewport=(1280, 900)) as page:
        errors = kit.watch_errors(page)
        page.goto(f"{base}/admin/login")
        page.get_by_label("E-mailadres").fill("beheer@voorbeeld.example")
        page.get_by_label("Wachtwoord").fill(w.f.PASSWORD)
        page.get_by_role("button", name="Inloggen").click()
        page.goto(f"{base}/admin/reports/{world.fund.id}")
        charts = page.locator("figure.chart img")
        assert charts.count() == 4
        assert all(charts.nth(i).evaluate("i => i.naturalWidth > 0") for i in range(4))
        assert page.get_by_role("heading", name="Uitgaven per winkel").is_visible()

        with page.expect_download() as csv_download:
            page.locator("section[aria-labelledby=h-shops] .exports a", has_text="CSV").click()
        data = Path(csv_download.value.path()).read_bytes()
        assert data.startswith(b"\xef\xbb\xbf") and b"Fietsenwinkel De Spaak;" in data

        page.goto(f"{base}/admin/settlement/{world.fund.id}")
        page.get_by_role("button", name="Uitbetaling maken").click()
        page.wait_for_url("**/batches/*")
        assert page.get_by_text("concept").first.is_visible()
        with page.expect_download() as xml_download:
            page.get_by_role("button", name="SEPA-bestand downloaden").click()
        xml = Path(xml_download.value.path()).read_bytes()
        sepa.validate_pain001(xml, "03")
        assert xml_download.value.suggested_filename.endswith(".xml")
        # No reload: the confirm form is on the page the download left in place.
        page.locator("#reason").fill("Bankafschrift van vandaag")
        page.get_by_role("button", name="De bank heeft betaald: bevestigen").click()
        page.wait_for_url("**/batches/*")
        assert page.locator(".flash").first.is_visible()
        assert not page.get_by_role("button", name="De bank heeft betaald: bevestigen").count()
        assert errors == []
