"""WCAG 2.1 AA on every page: axe-core in real chromium, 360 px and 1280 px, Dutch and English.

axe-core is vendored in tests/browser/vendor/axe-core (tests only). Our CSP (script-src 'self')
blocks inline scripts, so the audit does not bypass CSP: ``page.route`` serves axe from the
app's own origin and ``add_script_tag(url=...)`` loads it like any of our own scripts.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright
from sqlalchemy.orm import Session

from kindpakket.keys import Keyring
from ledger import proofs
from merchant import redemptions
from tests import factories as fx
from tests.browser import kit
from wallet import services as wallet

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
AXE_URL_PATH = "/static/__axe__/axe.min.js"  # answered by page.route, never by the app
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = (360, 1280)
CODE = wallet.new_activation_code()
PIN = "27183"
ORIGIN = "kindpakket.example/ledger"  # the app's default LEDGER_ORIGIN


@dataclass
class Site:
    """The seeded world behind one live server and one browser."""

    base: str
    browser: Browser
    ids: dict[str, int]
    pages: dict[tuple[str, str], Page] = field(default_factory=dict)


def _seed(session: Session, ring: Keyring) -> dict[str, int]:
    """Create a fund, a family with a code, a shop with staff, an admin, and one payment."""
    m = fx.municipality(session)
    fund = fx.fund(session, m)
    household, vouchers = fx.family(session, fund)
    household.code_hash = wallet.code_hash(CODE)  # the wallet's own code format
    _, _, cashier = fx.shop(session, fund)
    fx.admin_user(session, m)
    session.commit()
    assert cashier is not None
    qr = wallet.issue_payment(session, vouchers[0], keyring=ring)
    session.commit()
    paid = redemptions.redeem(
        session,
        cashier=cashier,
        token=qr.token,
        amount_cents=1250,
        idempotency_key=uuid.uuid4().hex,
        keyring=ring,
    )
    session.commit()
    ring.ensure("checkpoint")  # the public spending page shows figures at a signed checkpoint
    proofs.make_checkpoint(session, (ORIGIN, ring.signing_key("checkpoint")[1]), ORIGIN)
    session.commit()
    return {
        "fund": fund.id,
        "voucher": vouchers[0].id,
        "seq": paid.ledger_seq,
        "household": household.id,
    }


@pytest.fixture(scope="module")
def site(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One app on SQLite (markup does not depend on the engine), one live server, one browser."""
    kit.require_chromium()
    from kindpakket import create_app

    root = tmp_path_factory.mktemp("a11y")
    shutil.copyfile(sqlite_template, root / "kindpakket.db")
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{root / 'kindpakket.db'}",
            "INSTANCE_DIR": str(root / "instance"),
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False,
            "BASE_URL": "http://127.0.0.1:5000",
        }
    )
    ring = Keyring(root / "instance" / "keys")
    ring.ensure("token")
    with Session(app.extensions["kindpakket_db"][0], expire_on_commit=False) as session:
        ids = _seed(session, ring)
    with kit.live_server(app) as base, sync_playwright() as playwright:
        browser = kit.launch(playwright)
        try:
            yield Site(base, browser, ids)
        finally:
            browser.close()
            app.extensions["kindpakket_db"][0].dispose()


def _log_in(context: BrowserContext, base: str, role: str) -> None:
    """Log the context's cookies in as the role, through the real login forms."""
    if role == "family":
        form = {"code": CODE, "pin": PIN, "pin_again": PIN}
        answer = context.request.post(f"{base}/wallet/activate", form=form, max_redirects=0)
        if answer.status != 302:  # activated by the other language's context already
            form = {"code": CODE, "pin": PIN}
            answer = context.request.post(f"{base}/wallet/login", form=form, max_redirects=0)
    elif role == "shop":
        form = {"email": "eigenaar@spaak.example", "password": fx.PASSWORD}
        answer = context.request.post(f"{base}/merchant/login", form=form, max_redirects=0)
    else:
        form = {"email": "beheer@voorbeeld.example", "password": fx.PASSWORD}
        answer = context.request.post(f"{base}/admin/login", form=form, max_redirects=0)
    assert answer.status == 302, f"{role} login failed: {answer.status}"


def page_for(site: Site, role: str, lang: str) -> Page:
    """Return the (cached) page of a role in a language: one context per role and language."""
    if (role, lang) not in site.pages:
        context = site.browser.new_context(
            viewport={"width": 360, "height": 740}, locale="nl-NL" if lang == "nl" else "en-GB"
        )
        context.add_cookies([{"name": "lang", "value": lang, "url": site.base}])
        context.route(f"{site.base}{AXE_URL_PATH}", _serve_axe)
        if role != "anonymous":
            _log_in(context, site.base, role)
        site.pages[(role, lang)] = context.new_page()
    return site.pages[(role, lang)]


def _serve_axe(route: Route) -> None:
    route.fulfill(path=str(AXE), content_type="text/javascript")


PAGES: list[tuple[str, str]] = [
    ("anonymous", "/"),
    ("anonymous", "/wallet/login"),
    ("anonymous", "/wallet/activate"),
    ("anonymous", "/merchant/apply"),
    ("anonymous", "/merchant/login"),
    ("anonymous", "/admin/login"),
    ("anonymous", "/receipt/{seq}"),
    ("anonymous", "/no-such-page"),
    ("anonymous", "/pass"),
    ("family", "/wallet/"),
    ("family", "/wallet/pay/{voucher}"),
    ("family", "/wallet/history"),
    ("family", "/wallet/devices"),
    ("shop", "/merchant/"),
    ("shop", "/merchant/scan"),
    ("shop", "/merchant/payments"),
    ("shop", "/merchant/staff"),
    ("shop", "/merchant/bank"),
    ("shop", "/merchant/hours"),
    ("admin", "/admin/"),
    ("admin", "/admin/funds/{fund}"),
    ("admin", "/admin/funds/{fund}/import"),
    ("admin", "/admin/shops/"),
    ("admin", "/admin/reports/{fund}"),
    ("admin", "/admin/settlement/{fund}"),
    ("admin", "/admin/audit/"),
    ("admin", "/admin/passes/{fund}"),
    ("admin", "/admin/staff"),
    ("admin", "/admin/funds/{fund}/households/{household}"),
    ("anonymous", "/open/voorbeeld/shops"),
    ("anonymous", "/open/voorbeeld/spending/{fund}"),
    ("anonymous", "/open/voorbeeld/accessibility"),
    ("anonymous", "/open/voorbeeld/privacy"),
]

STRUCTURE_JS = """() => ({
  h1: document.querySelectorAll('h1').length,
  lang: document.documentElement.getAttribute('lang') || '',
  scrollWidth: document.documentElement.scrollWidth,
  innerWidth: window.innerWidth,
})"""


def axe_violations(page: Page, base: str) -> list[str]:
    """Run axe (WCAG 2.0/2.1 A and AA) on the page; return one line per violation and node."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(url=f"{base}{AXE_URL_PATH}")
    result: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> {node['target']}"
        for v in result["violations"]
        for node in v["nodes"]
    ]


def skip_link_problem(page: Page) -> str | None:
    """Press Tab then Enter from the top: the skip link must come first and focus #main."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); }")
    page.keyboard.press("Tab")
    first = page.evaluate(
        "() => [document.activeElement.className, document.activeElement.getAttribute('href')]"
    )
    if first[1] != "#main":
        return f"first Tab stop is {first}, not the skip link to #main"
    page.keyboard.press("Enter")
    focused = page.evaluate("() => document.activeElement.id")
    return None if focused == "main" else f"skip link moved focus to #{focused!r}, not #main"


def audit(site: Site, page: Page, url: str, lang: str, width: int) -> list[str]:
    """Load the page at the width and return every accessibility problem found."""
    page.set_viewport_size({"width": width, "height": 740 if width == 360 else 900})
    errors = kit.watch_errors(page)
    response = page.goto(url)
    assert response is not None
    problems = [f"status {response.status}"] if response.status >= 500 else []
    if response.status == 200 and page.url.split("?")[0] != url.split("?")[0]:
        problems.append(f"redirected to {page.url}")
    facts = page.evaluate(STRUCTURE_JS)
    if facts["h1"] != 1:
        problems.append(f"{facts['h1']} h1 elements, expected exactly one")
    if facts["lang"] != lang:
        problems.append(f"<html lang={facts['lang']!r}>, expected {lang!r}")
    if width == 360 and facts["scrollWidth"] > facts["innerWidth"]:
        problems.append(f"page scrolls sideways: {facts['scrollWidth']} > {facts['innerWidth']}")
    problems += axe_violations(page, site.base)
    skip = skip_link_problem(page)
    problems += [skip] if skip else []
    if response.status < 400:
        problems += errors
    return problems


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize(("role", "path"), PAGES, ids=[f"{r}:{p}" for r, p in PAGES])
def test_page_meets_wcag_21_aa(site: Site, role: str, path: str, lang: str) -> None:
    page = page_for(site, role, lang)
    url = site.base + path.format(**site.ids)
    problems = [f"{width}px: {p}" for width in WIDTHS for p in audit(site, page, url, lang, width)]
    assert problems == [], f"{path} [{lang}]:\n" + "\n".join(problems)


def test_the_audit_catches_a_violation(site: Site) -> None:
    """Guard against a silent audit: a page made inaccessible on purpose must fail axe."""
    page = page_for(site, "anonymous", "nl")
    page.goto(site.base + "/")
    page.evaluate("() => { document.documentElement.removeAttribute('lang'); }")
    found = axe_violations(page, site.base)
    assert any(line.startswith("html-has-lang") for line in found), found
