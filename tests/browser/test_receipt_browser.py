"""The receipt page checks an entry in real chromium: verified, or what failed."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page, Route
from sqlalchemy import select
from sqlalchemy.orm import Session

from kindpakket.receipts import receipt_fields, receipt_link
from ledger import store
from merchant.models import Shop
from tests import factories as fx
from tests.admin.workload import pay
from tests.browser import kit
from tests.browser.test_accessibility import AXE_URL_PATH, _serve_axe, axe_violations
from tests.ledger.test_proofs import grow
from wallet.models import Fund, Voucher

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


# --- receipts of a party: proven by their bytes; the checkpoint kept between visits ----------


@dataclass
class Paid:
    """A live app with one payment of €12,50 and the family's receipt link to it."""

    base: str
    link: str
    shop_name: str
    app: Any


def _payments(app: Any, count: int) -> tuple[int, str, str]:
    """Record ``count`` payments of €12,50 at one shop; return the first's seq, hash, shop."""
    with Session(app.extensions["kindpakket_db"][0]) as s:
        m = fx.municipality(s)
        fund = fx.fund(s, m)
        _, vouchers = fx.family(s, fund)
        shop, _, _ = fx.shop(s, fund)
        rows = [pay(s, fund, shop, vouchers[0], 1250) for _ in range(count)]
        s.commit()
        return rows[0].ledger_seq, rows[0].entry_hash, shop.name


@pytest.fixture
def paid(app: Any) -> Iterator[Paid]:
    seq, entry_hash, shop_name = _payments(app, 1)
    with app.test_request_context():
        link = receipt_link(seq, entry_hash, "family")
    with kit.live_server(app) as base:
        yield Paid(base, link, shop_name, app)


def _more_entries_and_a_checkpoint(paid: Paid, cli: Any) -> None:
    """Record three more payments (of the same family at the same shop) and sign."""
    with Session(paid.app.extensions["kindpakket_db"][0]) as s:
        fund = s.execute(select(Fund)).scalars().one()
        shop = s.execute(select(Shop)).scalars().one()
        voucher = s.execute(select(Voucher).order_by(Voucher.id)).scalars().first()
        assert voucher is not None
        for _ in range(3):
            pay(s, fund, shop, voucher, 100)
        s.commit()
    assert cli("ledger", "checkpoint").exit_code == 0


def test_familys_link_proves_amount_and_shop_from_the_hashed_bytes(paid: Paid) -> None:
    with kit.browser_page() as page:
        errors = kit.watch_errors(page)
        text = check(page, paid.base + paid.link)
        assert page.get_attribute("#result", "data-state") == "verified", text
        assert page.get_attribute("#result", "data-proven") == "contents"
        assert "bytes van de boeking zelf" in text
        assert page.is_visible("#contents")
        assert "12,50" in page.inner_text("#c-amount")
        assert page.inner_text("#c-shop") == paid.shop_name
        assert page.inner_text("#c-kind") == "Betaling"
        assert page.inner_text("#c-time").endswith((" CET", " CEST"))  # Amsterdam, zone named
        assert "Nog geen getuige" in page.inner_text("#witnesses")
        assert page.get_attribute("#history", "data-state") == "first"
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
        assert errors == []
        english = page.get_attribute("nav.lang a", "href") or ""
        assert "party=family" in english and "lang=en" in english and "t=" in english
        page.route(f"{paid.base}{AXE_URL_PATH}", _serve_axe)
        assert axe_violations(page, paid.base) == []  # with the proven contents shown


def test_the_public_page_proves_the_hash_only(paid: Paid) -> None:
    public = paid.link.split("&party=")[0]
    with kit.browser_page() as page:
        text = check(page, paid.base + public)
        assert page.get_attribute("#result", "data-state") == "verified", text
        assert page.get_attribute("#result", "data-proven") == "hash"
        assert page.is_hidden("#contents") and "12,50" not in page.inner_text("main")


def test_bytes_that_do_not_match_the_hash_are_refused(paid: Paid) -> None:
    def alter(route: Route) -> None:
        answer = route.fetch()
        body = answer.json()
        data = base64.b64decode(body["bytes"]).replace(b",1250]", b",9250]")
        body["bytes"] = base64.b64encode(data).decode()
        route.fulfill(response=answer, body=json.dumps(body))

    with kit.browser_page(locale="en-GB") as page:
        page.route(re.compile(r".*/api/v1/ledger/entries/\d+\?.*"), alter)
        text = check(page, paid.base + paid.link + "&lang=en")
        assert page.get_attribute("#result", "data-state") == "failed"
        assert "do not match its hash" in text and "bytes_mismatch" in text
        assert page.is_hidden("#contents")
        main = page.inner_text("main")
        assert "92.50" not in main and "12.50" not in main


def test_second_visit_checks_the_kept_checkpoint_with_a_consistency_proof(
    paid: Paid, cli: Any
) -> None:
    with kit.browser_page() as page:
        check(page, paid.base + paid.link)
        kept = page.evaluate("() => JSON.parse(localStorage.getItem(Object.keys(localStorage)[0]))")
        assert page.get_attribute("#history", "data-state") == "first"
        _more_entries_and_a_checkpoint(paid, cli)
        text = check(page, paid.base + paid.link)
        assert page.get_attribute("#result", "data-state") == "verified", text
        assert page.get_attribute("#history", "data-state") == "consistent"
        grown = f"van {kept['size']} naar {kept['size'] + 3} boekingen"
        assert grown in page.inner_text("#history")
        now = page.evaluate("() => JSON.parse(localStorage.getItem(Object.keys(localStorage)[0]))")
        assert now["size"] == kept["size"] + 3


def test_a_rewritten_ledger_is_called_out(paid: Paid) -> None:
    with kit.browser_page(locale="en-GB") as page:
        check(page, paid.base + paid.link + "&lang=en")
        # What this browser kept says another tree of the same size: a fork.
        page.evaluate(
            """() => {
              const key = Object.keys(localStorage)[0];
              const kept = JSON.parse(localStorage.getItem(key));
              kept.root = btoa(String.fromCharCode(...new Uint8Array(32).fill(7)));
              localStorage.setItem(key, JSON.stringify(kept));
            }"""
        )
        text = check(page, paid.base + paid.link + "&lang=en")
        assert page.get_attribute("#result", "data-state") == "failed"
        assert page.get_attribute("#history", "data-state") == "rewritten"
        warning = page.get_by_role("alert")
        assert "The ledger was rewritten since your last visit." in warning.inner_text()
        assert "ledger_rewritten" in text and page.is_hidden("#contents")
        page.route(f"{paid.base}{AXE_URL_PATH}", _serve_axe)
        assert axe_violations(page, paid.base) == []  # with the warning shown
    with kit.browser_page() as page:  # and in Dutch
        check(page, paid.base + paid.link)
        page.evaluate(
            """() => {
              const key = Object.keys(localStorage)[0];
              const kept = JSON.parse(localStorage.getItem(key));
              kept.size += 5;  // a bigger tree than the server now has
              localStorage.setItem(key, JSON.stringify(kept));
            }"""
        )
        check(page, paid.base + paid.link)
        assert page.get_attribute("#history", "data-state") == "rewritten"
        assert "herschreven sinds uw vorige bezoek" in page.inner_text("#history")


def test_witness_cosignatures_are_ignored_for_the_check_and_named(paid: Paid) -> None:
    cosignature = base64.b64encode(bytes(range(76))).decode()

    def cosign(route: Route) -> None:
        answer = route.fetch()
        body = answer.json()
        body["checkpoint"] += f"\u2014 witness.example/w1 {cosignature}\n"
        route.fulfill(response=answer, body=json.dumps(body))

    with kit.browser_page() as page:
        page.route("**/api/v1/ledger/entries/*/proof*", cosign)
        text = check(page, paid.base + paid.link)
        assert page.get_attribute("#result", "data-state") == "verified", text
        assert "witness.example/w1" in page.inner_text("#witnesses")
        assert page.get_attribute("#witnesses", "data-count") == "1"
