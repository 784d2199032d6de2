"""Who reads what of a ledger entry: the public sees hashes; each party sees its own bytes."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests import factories as fx
from tests.admin.workload import login as staff_login
from tests.admin.workload import pay, refund

CODE = "KP-7F3K-Q9XM-2HDT-8WNC"
OTHER_CODE = "KP-M4RT-ZZ8P-QH3K-VW2E"
PIN = "48213"


@dataclass
class World:
    """Two families and two shops in one municipality's fund; a second municipality."""

    payment: int  # our family's child paid at our shop
    refund: int  # our shop gave part of it back
    other_family_payment: int  # the other family at the other shop
    issue: int  # our family's first voucher funded
    deposit: int  # the fund's deposit
    foreign_payment: int  # another municipality's family at its own shop
    shop_name: str


@pytest.fixture
def world(app: Flask) -> World:
    with Session(app.extensions["kindpakket_db"][0]) as s:
        m = fx.municipality(s)
        fund = fx.fund(s, m)
        deposit = 1
        _, vouchers = fx.family(s, fund, code=CODE)
        issue = deposit + 1
        _, other_vouchers = fx.family(s, fund, reference="H-2", children=("Sem",), code=OTHER_CODE)
        shop, _, _ = fx.shop(s, fund)
        other_shop, _, _ = fx.shop(
            s,
            fund,
            name="Boekhandel Lees",
            kvk="87654321",
            owner_email="eigenaar@lees.example",
            cashier_email=None,
        )
        fx.admin_user(s, m)
        paid = pay(s, fund, shop, vouchers[0], 1250)
        back = refund(s, fund, paid, 250)
        theirs = pay(s, fund, other_shop, other_vouchers[0], 4000)
        elders = fx.municipality(s, slug="elders", name="Gemeente Elders")
        far_fund = fx.fund(s, elders, name="Kindpakket Elders")
        _, far_vouchers = fx.family(s, far_fund, reference="E-1", children=("Lot",))
        far_shop, _, _ = fx.shop(
            s,
            far_fund,
            name="Speelgoed Elders",
            kvk="11223344",
            owner_email="eigenaar@elders.example",
            cashier_email=None,
        )
        far = pay(s, far_fund, far_shop, far_vouchers[0], 999)
        s.commit()
        return World(
            paid.ledger_seq,
            back.ledger_seq,
            theirs.ledger_seq,
            issue,
            deposit,
            far.ledger_seq,
            shop.name,
        )


def entry(client: FlaskClient, seq: int, **query: str) -> Any:
    """GET the entry and return the response."""
    return client.get(f"/api/v1/ledger/entries/{seq}", query_string=query)


def proven(body: dict[str, Any]) -> dict[str, Any]:
    """Check that the bytes hash to the entry hash and return them parsed."""
    data = base64.b64decode(body["bytes"], validate=True)
    assert hashlib.sha256(data).hexdigest() == body["hash"]
    parsed: dict[str, Any] = json.loads(data)
    return parsed


def readable(client: FlaskClient, seq: int) -> bool:
    """Return True when the client gets the entry's bytes."""
    answer = entry(client, seq)
    assert answer.status_code == 200
    return "bytes" in answer.get_json()


def family_client(app: Flask, code: str = CODE) -> FlaskClient:
    client = app.test_client()
    answer = client.post("/wallet/activate", data={"code": code, "pin": PIN, "pin_again": PIN})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
    return client


def shop_client(app: Flask, email: str = "eigenaar@spaak.example") -> FlaskClient:
    client = app.test_client()
    answer = client.post("/merchant/login", data={"email": email, "password": fx.PASSWORD})
    assert answer.status_code == 302
    return client


def test_the_public_sees_numbers_and_hashes_only(app: Flask, world: World) -> None:
    client = app.test_client()
    for seq in range(1, world.foreign_payment + 1):
        answer = entry(client, seq)
        assert answer.status_code == 200
        body = answer.get_json()
        assert set(body) == {"seq", "hash", "verify_url"}
        assert "no-store" in answer.headers["Cache-Control"]
    page = client.get(f"/receipt/{world.payment}").get_data(as_text=True)
    assert world.shop_name not in page and "voucher:" not in page
    assert "12,50" not in page and "12.50" not in page
    proof = client.get(f"/api/v1/ledger/entries/{world.payment}/proof").get_json()
    assert set(proof) == {
        "seq",
        "entry_hash",
        "leaf_index",
        "tree_size",
        "proof",
        "root",
        "checkpoint",
    }


def test_a_family_reads_its_own_entries_and_no_others(app: Flask, world: World) -> None:
    client = family_client(app)
    answer = entry(client, world.payment)
    body = answer.get_json()
    assert body["party"] == "family"
    paid = proven(body)
    assert paid["kind"] == "redemption" and paid["meta"]["shop_name"] == world.shop_name
    assert sum(n for _, n in paid["postings"] if n > 0) == 1250
    assert proven(entry(client, world.refund).get_json())["kind"] == "refund"
    assert proven(entry(client, world.issue).get_json())["kind"] == "voucher.issue"
    for seq in (world.other_family_payment, world.deposit, world.foreign_payment):
        assert not readable(client, seq), seq


def test_the_other_family_does_not_read_ours(app: Flask, world: World) -> None:
    client = family_client(app, OTHER_CODE)
    assert readable(client, world.other_family_payment)
    assert not readable(client, world.payment) and not readable(client, world.refund)


def test_a_shop_reads_only_its_own_payments_and_refunds(app: Flask, world: World) -> None:
    client = shop_client(app)
    body = entry(client, world.payment).get_json()
    assert body["party"] == "shop" and proven(body)["meta"]["shop_name"] == world.shop_name
    assert readable(client, world.refund)
    for seq in (world.other_family_payment, world.issue, world.deposit, world.foreign_payment):
        assert not readable(client, seq), seq
    other = shop_client(app, "eigenaar@lees.example")
    assert readable(other, world.other_family_payment) and not readable(other, world.payment)


def test_staff_read_their_municipality_only(app: Flask, world: World) -> None:
    client = staff_login(app.test_client())
    for seq in (world.deposit, world.issue, world.payment, world.refund):
        body = entry(client, seq).get_json()
        assert body["party"] == "municipality" and proven(body)["seq"] == seq
    assert readable(client, world.other_family_payment)
    assert not readable(client, world.foreign_payment)


def test_the_familys_receipt_link_shows_its_contents_to_whoever_holds_it(
    app: Flask, world: World
) -> None:
    items = family_client(app).get("/api/v1/wallet/history").get_json()["items"]
    link = next(i["receipt_url"] for i in items if i["ledger_seq"] == world.payment)
    query = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    assert query["party"] == "family" and len(query["t"]) == 22
    stranger = app.test_client()  # e.g. someone the family showed its receipt to
    page = stranger.get(link).get_data(as_text=True)
    assert f"party=family&amp;t={query['t']}" in page  # the page's script fetches with it
    body = entry(stranger, world.payment, party="family", t=query["t"]).get_json()
    assert body["party"] == "family" and proven(body)["seq"] == world.payment
    # The token is bound to its entry and its party.
    moved = entry(stranger, world.other_family_payment, party="family", t=query["t"])
    assert moved.status_code == 403
    assert moved.get_json()["error"]["code"] == "receipt_link_invalid"
    assert entry(stranger, world.payment, party="shop", t=query["t"]).status_code == 403
    assert entry(stranger, world.payment, party="family", t="A" * 22).status_code == 403
    assert entry(stranger, world.payment, party="auditor", t=query["t"]).status_code == 422


def test_the_shops_pages_and_answers_link_the_shops_copy(app: Flask, world: World) -> None:
    client = shop_client(app)
    page = client.get("/merchant/payments").get_data(as_text=True)
    links = re.findall(r'href="(/receipt/\d+\?[^"]+)"', page)
    assert links and all("party=shop" in link for link in links)
    stranger = app.test_client()
    for link in links:
        query = {k: v[0] for k, v in parse_qs(urlsplit(link.replace("&amp;", "&")).query).items()}
        seq = int(urlsplit(link).path.rsplit("/", 1)[1])
        assert seq in (world.payment, world.refund)
        body = entry(stranger, seq, party="shop", t=query["t"]).get_json()
        assert body["party"] == "shop" and proven(body)["seq"] == seq
