"""Every page each role can reach, in Dutch, shows no English text and no raw keys.

The crawl follows the links on each page (GET only, same site, no log-out) from each role's
start pages. A page fails when its visible text holds an English msgid from the catalog
whose Dutch differs, or a raw key such as ``sports`` or ``payment_code_unknown``.
"""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from admin.funds import csvimport
from kindpakket import i18n_catalog
from merchant.services import CATEGORIES
from tests import factories as fx
from tests.admin.workload import login as staff_login
from tests.admin.workload import pay, refund

CODE = "KP-7F3K-Q9XM-2HDT-8WNC"
PIN = "48213"
MAX_PAGES = 120  # per role: enough for every kind of page, bounded for long lists
SKIP = re.compile(r"logout|/static/|/api/|\.(pdf|csv|xml|json|png|svg|js|css)$|download|export")
# Words that are the same in Dutch and English or are names, shown on purpose.
ALLOWED_KEYS = {c.dutch for c in csvimport.COLUMNS} | {c.key for c in csvimport.COLUMNS}
SNAKE = re.compile(r"(?<![\w/.])[a-z]+(?:_[a-z]+)+(?![\w/.:])")  # not paths, not "shop_user:7"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w*\}|%[sd]")


class _Text(HTMLParser):
    """Collect the visible text and labels people see; skip scripts and technical names.

    Technical names shown on purpose (``<code>``, an audit event's ``class="raw"`` name)
    are not prose and are left out.
    """

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skipping: list[str] = []  # open tags whose text is not checked
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if (
            tag in {"script", "style", "template", "code", "kbd", "samp"}
            or "raw" in (values.get("class") or "").split()
        ):
            self.skipping.append(tag)
        for name in ("title", "aria-label", "placeholder", "alt"):
            if values.get(name):
                self.parts.append(str(values[name]))
        if tag == "input" and values.get("type") in {"submit", "button"} and values.get("value"):
            self.parts.append(str(values["value"]))
        if tag == "a" and values.get("href"):
            self.links.append(str(values["href"]))

    def handle_endtag(self, tag: str) -> None:
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_data(self, data: str) -> None:
        if not self.skipping and data.strip():
            self.parts.append(data)


def _english_phrases() -> list[tuple[str, re.Pattern[str]]]:
    """Return msgids whose Dutch differs, as patterns of whole words (placeholders split)."""
    dutch = i18n_catalog.messages(i18n_catalog.fragments())
    found = []
    for msgid in i18n_catalog.extract():
        if dutch.get(msgid) == msgid:
            continue
        pieces = [p.strip(" .,:;") for p in PLACEHOLDER.split(msgid)]
        for piece in pieces:
            if len(piece.split()) >= 3 or (len(piece.split()) == 2 and len(piece) >= 12):
                found.append((msgid, re.compile(r"(?<!\w)" + re.escape(piece) + r"(?!\w)")))
    return found


PHRASES = _english_phrases()


def _problems(text: str) -> list[str]:
    """Return the untranslated phrases and raw keys in a page's visible text."""
    found = [f"English: {msgid!r}" for msgid, pattern in PHRASES if pattern.search(text)]
    found += [f"raw key: {k!r}" for k in SNAKE.findall(text) if k not in ALLOWED_KEYS]
    found += [
        f"raw key: {k!r}" for k in CATEGORIES if re.search(rf"(?<![\w/.-]){k}(?![\w/.-])", text)
    ]
    return found


def crawl(client: FlaskClient, starts: list[str]) -> dict[str, list[str]]:
    """Visit every page reachable from ``starts``; return the problems per page."""
    seen: set[str] = set()
    queue = deque(starts)
    problems: dict[str, list[str]] = {}
    while queue and len(seen) < MAX_PAGES:
        path = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        answer = client.get(path, headers={"Accept-Language": "nl"})
        if answer.status_code in {301, 302, 303, 307, 308}:
            target = urlsplit(answer.headers["Location"])
            queue.append(target.path + (f"?{target.query}" if target.query else ""))
            continue
        if "text/html" not in answer.content_type:
            continue
        parser = _Text()
        parser.feed(answer.get_data(as_text=True))
        text = " ".join(" ".join(parser.parts).split())
        if found := _problems(text):
            problems[path] = found
        for href in parser.links:
            link = urldefrag(href).url
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                continue
            if SKIP.search(parts.path):
                continue
            queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    assert len(seen) > 1, starts
    return problems


@pytest.fixture
def site(app: Flask) -> Flask:
    """A municipality with staff in every role, a family that paid and a shop with staff."""
    with Session(app.extensions["kindpakket_db"][0]) as s:
        m = fx.municipality(s)
        fund = fx.fund(s, m)
        _, vouchers = fx.family(s, fund, code=CODE)
        shop, _, _ = fx.shop(s, fund)
        fx.admin_user(s, m)
        fx.admin_user(s, m, email="geld@voorbeeld.example", role="finance")
        fx.admin_user(s, m, email="lezer@voorbeeld.example", role="viewer")
        paid = pay(s, fund, shop, vouchers[0], 1250)
        refund(s, fund, paid, 250)
        s.commit()
    return app


def _client(app: Flask, role: str) -> FlaskClient:
    client = app.test_client()
    if role == "family":
        answer = client.post("/wallet/activate", data={"code": CODE, "pin": PIN, "pin_again": PIN})
        assert answer.status_code == 302
    elif role in {"owner", "cashier"}:
        email = "eigenaar@spaak.example" if role == "owner" else "kassa@spaak.example"
        answer = client.post("/merchant/login", data={"email": email, "password": fx.PASSWORD})
        assert answer.status_code == 302
    elif role != "anonymous":
        emails = {
            "administrator": "beheer@voorbeeld.example",
            "finance": "geld@voorbeeld.example",
            "viewer": "lezer@voorbeeld.example",
        }
        staff_login(client, emails[role])
    return client


STARTS = {
    "anonymous": ["/", "/wallet/", "/merchant/login", "/admin/login", "/voorbeeld/shops"],
    "family": ["/wallet/"],
    "owner": ["/merchant/"],
    "cashier": ["/merchant/"],
    "administrator": ["/admin/", "/admin/funds/1/households/1"],
    "finance": ["/admin/", "/admin/funds/1/households/1"],
    "viewer": ["/admin/", "/admin/funds/1/households/1"],
}


@pytest.mark.parametrize("role", list(STARTS))
def test_every_page_a_role_reaches_is_dutch(site: Flask, role: str) -> None:
    problems = crawl(_client(site, role), STARTS[role])
    assert problems == {}, "\n".join(
        f"{page}: {sorted(set(found))}" for page, found in problems.items()
    )


def test_the_check_finds_english_and_raw_keys() -> None:
    html = (
        "<p>Kleding en schoenen</p><p>The fund has been created.</p>"
        "<p>Categorie: sports</p><p>payment_code_unknown</p>"
        "<p><code>huishouden_ref</code> tests/browser/test_accessibility.py shop_user:7</p>"
    )
    parser = _Text()
    parser.feed(html)
    found = _problems(" ".join(parser.parts))
    assert found == [
        "English: 'The fund has been created.'",
        "raw key: 'payment_code_unknown'",
        "raw key: 'sports'",
    ]
