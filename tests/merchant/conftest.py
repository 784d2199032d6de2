"""Fixtures of the shop tests: a funded family, approved shops, tokens, logins."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from kindpakket.keys import Keyring
from merchant.models import Shop, ShopUser
from tests import factories as fx
from wallet import services as wallet
from wallet.models import Fund, Household, Voucher

FAMILY_CODE = wallet.new_activation_code()
FAMILY_PIN = "27183"
# A new shop's application as the public form sends it (it applies to no fund yet).
APPLICATION = {
    "name": "Speelgoed Ot",
    "kvk": "11223344",
    "iban": "NL18RABO0123459876",
    "address": "Markt 3",
    "postcode": "9801 AC",
    "city": "Zuidhorn",
    "category": "toys",
    "email": "winkel@ot.example",
    "owner_name": "Ot",
    "owner_email": "ot@ot.example",
    "password": fx.PASSWORD,
}


@dataclass
class World:
    """A municipality's fund, a family with two vouchers and two approved shops."""

    fund: Fund
    household: Household
    vouchers: list[Voucher]
    shop: Shop
    owner: ShopUser
    cashier: ShopUser
    other_shop: Shop
    other_owner: ShopUser
    keyring: Keyring


@pytest.fixture
def keyring(app_config: dict[str, Any]) -> Keyring:
    """The keyring the test app uses, with a token key."""
    ring = Keyring(Path(str(app_config["INSTANCE_DIR"])) / "keys")
    ring.ensure("token")
    return ring


def build_world(session: Session, ring: Keyring, **fund_options: Any) -> World:
    """Create and commit the world."""
    m = fx.municipality(session)
    fund = fx.fund(session, m, **fund_options)
    household, vouchers = fx.family(session, fund)
    household.code_hash = wallet.code_hash(FAMILY_CODE)  # the wallet's own code format
    shop, owner, cashier = fx.shop(session, fund)
    other, other_owner, _ = fx.shop(
        session,
        fund,
        name="Boekhandel Lees",
        kvk="87654321",
        category="books_school",
        owner_email="eigenaar@lees.example",
        cashier_email=None,
    )
    session.commit()
    assert cashier is not None
    return World(fund, household, vouchers, shop, owner, cashier, other, other_owner, ring)


@pytest.fixture
def world(session: Session, keyring: Keyring) -> World:
    """The committed world of a shop test."""
    return build_world(session, keyring)


def token_for(session: Session, ring: Keyring, voucher: Voucher, **kw: Any) -> wallet.PaymentQR:
    """Issue (and commit) a payment QR for the voucher, as the wallet page does."""
    qr = wallet.issue_payment(session, voucher, keyring=ring, **kw)
    session.commit()
    return qr


def raw_token(ring: Keyring, voucher_id: int, now: int) -> str:
    """Return a token signed with the current key as if issued at ``now`` (past or future)."""
    from wallet import tokens

    info, signing = ring.signing_key("token")
    return tokens.issue_token(voucher_id, (info.kid, signing), now).text


def key() -> str:
    """Return a fresh idempotency key."""
    return uuid.uuid4().hex


def login(client: Any, email: str, password: str = fx.PASSWORD) -> None:
    """Log a shop user in through the login page."""
    response = client.post("/merchant/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def family_login(client: Any, code: str = FAMILY_CODE) -> None:
    """Activate the family's code with a PIN through the wallet page (logs the family in)."""
    response = client.post(
        "/wallet/activate", data={"code": code, "pin": FAMILY_PIN, "pin_again": FAMILY_PIN}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def pay(client: Any, **body: Any) -> Any:
    """POST a payment to the API."""
    body.setdefault("idempotency_key", key())
    return client.post("/api/v1/merchant/redemptions", json=body)
