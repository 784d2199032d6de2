"""Payments and refunds made the way the merchant use cases make them, for report tests.

A redemption is a ledger entry voucher -> shop payable with meta {shop, shop_name, receipt,
voucher, fund} plus a Redemption row; a refund is payable -> voucher (meta adds
"redemption") plus a Refund row.
"""

from __future__ import annotations

import functools
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from kindpakket.passwords import hash_secret
from kindpakket.seeding import rows
from ledger import store
from merchant.models import Redemption, Refund, Shop, ShopUser, payable_account
from tests import factories as f
from wallet.models import Fund, Municipality, Voucher


def _cashier(session: Session, shop: Shop) -> int:
    return int(
        session.execute(select(ShopUser.id).where(ShopUser.shop_id == shop.id)).scalars().first()
    )


def pay(
    session: Session,
    fund: Fund,
    shop: Shop,
    voucher: Voucher,
    cents: int,
    *,
    at: datetime | None = None,
) -> Redemption:
    """Record a payment of ``cents`` from the voucher to the shop."""
    receipt = uuid.uuid4().hex[:20].upper()
    entry = store.append(
        session,
        "redemption",
        [(voucher.account, -cents), (payable_account(shop.id, fund.id), cents)],
        meta={
            "shop": shop.id,
            "shop_name": shop.name,
            "receipt": receipt,
            "voucher": voucher.id,
            "fund": fund.id,
        },
        at=at,
    )
    row = Redemption(
        shop_id=shop.id,
        fund_id=fund.id,
        voucher_id=voucher.id,
        cashier_id=_cashier(session, shop),
        amount_cents=cents,
        refunded_cents=0,
        nonce=uuid.uuid4().hex[:24],
        idempotency_key=uuid.uuid4().hex,
        receipt_number=receipt,
        ledger_seq=entry.seq,
        entry_hash=entry.hash,
        created_at=at or datetime.now(UTC),
    )
    session.add(row)
    session.flush()  # the id is what a refund points to
    return row


def refund(
    session: Session, fund: Fund, redemption: Redemption, cents: int, *, at: datetime | None = None
) -> Refund:
    """Give ``cents`` of a payment back to its voucher."""
    shop = session.get(Shop, redemption.shop_id)
    assert shop is not None
    receipt = uuid.uuid4().hex[:20].upper()
    entry = store.append(
        session,
        "refund",
        [(payable_account(shop.id, fund.id), -cents), (f"voucher:{redemption.voucher_id}", cents)],
        meta={
            "shop": shop.id,
            "shop_name": shop.name,
            "receipt": receipt,
            "voucher": redemption.voucher_id,
            "fund": fund.id,
            "redemption": redemption.id,
        },
        at=at,
    )
    redemption.refunded_cents += cents
    row = Refund(
        redemption_id=redemption.id,
        shop_id=shop.id,
        cashier_id=redemption.cashier_id,
        amount_cents=cents,
        reason="retour",
        idempotency_key=uuid.uuid4().hex,
        receipt_number=receipt,
        ledger_seq=entry.seq,
        entry_hash=entry.hash,
        created_at=at or datetime.now(UTC),
    )
    session.add(row)
    session.flush()
    return row


@dataclass
class World:
    """A municipality with a fund, three shops, families, staff; plus a foreign one."""

    municipality: Municipality
    fund: Fund
    shops: list[Shop]
    vouchers: list[Voucher]
    other_fund: Fund
    other_shop: Shop
    redemptions: list[Redemption] = field(default_factory=list)


SHOPS = (
    ("Fietsenwinkel De Spaak", "12345678", "bicycles"),
    ("Boekhandel Noël & Zoon", "23456789", "books"),
    ("Sportshop Ærø", "34567890", "sports"),
)


@functools.cache
def _hash_once(secret: str) -> str:
    return hash_secret(secret)


def seed(session: Session, *, families: int = 3) -> World:
    """Create the world the admin tests start from (flushed, not committed)."""
    # Hash the one test password once instead of for each of the dozen users (argon2 is slow).
    with mock.patch.object(rows, "hash_secret", _hash_once):  # the builders' own import
        return _seed(session, families)


def _seed(session: Session, families: int) -> World:
    m = f.municipality(session)
    fund = f.fund(session, m)
    shops = []
    for i, (name, kvk, category) in enumerate(SHOPS):
        shop, _, _ = f.shop(
            session,
            fund,
            name=name,
            kvk=kvk,
            category=category,
            owner_email=f"owner{i}@shop.example",
            cashier_email=f"kassa{i}@shop.example",
        )
        shops.append(shop)
    shops[0].iban = "NL18RABO0123459876"  # the factory's default IBAN fails its checksum
    vouchers: list[Voucher] = []
    for h in range(families):
        _, vs = f.family(session, fund, reference=f"H-{h + 1}")
        vouchers.extend(vs)
    f.admin_user(session, m)
    f.admin_user(session, m, email="financien@voorbeeld.example", role="finance")
    f.admin_user(session, m, email="lezer@voorbeeld.example", role="viewer")
    other_m = f.municipality(session, slug="elders", name="Gemeente Elders")
    other_fund = f.fund(session, other_m, name="Fonds Elders")
    other_shop, _, _ = f.shop(
        session,
        other_fund,
        name="Winkel Elders",
        kvk="99999999",
        owner_email="o@elders.example",
        cashier_email=None,
    )
    f.admin_user(session, other_m, email="beheer@elders.example")
    return World(m, fund, shops, vouchers, other_fund, other_shop)


def generate(
    session: Session,
    world: World,
    *,
    payments: int = 60,
    refund_every: int = 4,
    days: int = 20,
    seed_value: int = 7,
) -> None:
    """Add random payments over the last ``days`` days, and a partial refund now and then."""
    rng = random.Random(seed_value)
    now = datetime.now(UTC)
    for i in range(payments):
        voucher = world.vouchers[rng.randrange(len(world.vouchers) - 1)]  # one stays unused
        shop = world.shops[rng.randrange(len(world.shops))]
        at = now - timedelta(days=rng.randrange(days), hours=rng.randrange(24))
        r = pay(session, world.fund, shop, voucher, rng.randrange(1, 900), at=at)
        world.redemptions.append(r)
        if i % refund_every == 0:
            refund(
                session,
                world.fund,
                r,
                rng.randrange(1, r.amount_cents + 1),
                at=at + timedelta(minutes=5),
            )


@pytest.fixture
def rapp(app: Flask) -> Flask:
    """The app (report, settlement and audit pages are registered by the factory)."""
    return app


@pytest.fixture
def rcli(cli):  # type: ignore[no-untyped-def]
    """Run a ``kindpakket`` command: ``rcli("settle", "1", "--until", ...)``."""
    return cli


def login(client: FlaskClient, email: str = "beheer@voorbeeld.example") -> FlaskClient:
    """Log a staff member in through the login page."""
    response = client.post("/admin/login", data={"email": email, "password": f.PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client
