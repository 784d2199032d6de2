"""The receipt page checks an entry in real chromium: verified, or what failed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, Route
from sqlalchemy.orm import Session

from kindpakket.receipts import receipt_fields
from ledger import store
from tests.browser import kit
from tests.ledger.test_proofs import grow

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True, scope="module")
def _chromium() -> None:
    kit.require_chromium()


@pytest.fixture
def site(app: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Serve the app with 11 entries; yield the base URL and entry 7's receipt fields."""
    with Session(app.extensions["kindpakket_db"][0]) as session:
        grow(session, 11)
        entry = store.get_entry(session, 7)
    assert entry is not None
    with kit.live_server(app) as base:
        yield base, receipt_fields(entry)


def check(page: Page, url: str) -> str:
    """Open a receipt, press Check with the keyboard and return the live region's text."""
    page.goto(url)
    page.focus("#check")
    page.keyboard.press("Enter")
    page.wait_for_selector("#result[data-state=verified], #result[data-state=failed]")
    return page.inner_text("#result")


def test_receipt_shows_verified_from_the_proof(site: tuple[str, dict[str, Any]]) -> None:
    base, fields = site
    with kit.browser_page() as page:
        errors = kit.watch_errors(page)
        text = check(page, base + fields["verify_url"])
        assert page.get_attribute("#result", "data-state") == "verified", text
        assert "Geverifieerd" in text  # Dutch first
        assert page.get_attribute("#result", "role") == "status"
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 360  # no sideways scrolling on a small phone
        assert errors == []


def test_tampered_proof_shows_what_failed(site: tuple[str, dict[str, Any]]) -> None:
    base, fields = site

    def tamper(route: Route) -> None:
        answer = route.fetch()
        body = answer.json()
        first = body["proof"][0]
        body["proof"][0] = ("0" if first[0] != "0" else "1") + first[1:]
        route.fulfill(response=answer, body=json.dumps(body))

    with kit.browser_page() as page:
        page.route("**/api/v1/ledger/entries/*/proof*", tamper)
        text = check(page, base + fields["verify_url"])
        assert page.get_attribute("#result", "data-state") == "failed"
        assert "root_mismatch" in text


def test_receipt_with_another_hash_is_not_verified(site: tuple[str, dict[str, Any]]) -> None:
    base, fields = site
    forged = fields["verify_url"].split("?")[0] + "?hash=" + "ab" * 32
    with kit.browser_page(locale="en-GB") as page:
        text = check(page, base + forged + "&lang=en")
        assert page.get_attribute("#result", "data-state") == "failed"
        assert "Not verified" in text and "hash_mismatch" in text
