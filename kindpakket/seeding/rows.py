"""One record at a time, straight on the models and the ledger: the world a test starts from.

A municipality, a fund with budget, a family with funded vouchers, an approved shop, a
staff member. No use case runs, so nothing is audited or notified and no app context is
needed; the use cases under test still go through the services. Every builder flushes, so
ids are known; the caller commits when it needs to. ``tests/factories.py`` re-exports this
module. The ``*_row`` functions give a table's column values; :mod:`kindpakket.seeding.bulk`
writes the same rows by the thousand.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from admin.models import AdminUser
from kindpakket.accounts import voucher_account
from kindpakket.passwords import hash_secret
from kindpakket.time import today as amsterdam_today
from ledger import store
from merchant.models import Shop, ShopApproval, ShopUser, payable_account
from wallet.models import Child, Fund, Household, Municipality, Voucher
from wallet.services import code_hash

NOW = datetime.now(UTC)
# Seeded staff log in with this (tests, benchmarks); the demo prints its own.
PASSWORD = "correct horse battery"  # noqa: S105


@dataclass(frozen=True)
class ShopSpec:
    """What a shop tells about itself: its row's columns, its application form's fields."""

    name: str
    kvk: str
    iban: str
    category: str
    email: str  # the shop's and its owner's
    address: str = "Stationsweg 2"
    postcode: str = "9801 AB"
    city: str = "Zuidhorn"


@dataclass(frozen=True)
class ChildSpec:
    """A child as the municipality's eligibility file names it."""

    reference: str
    first_name: str
    birth_date: date


@dataclass(frozen=True)
class HouseholdSpec:
    """A household as the municipality's eligibility file names it, with its children."""

    reference: str = "H-1"
    parent_name: str = "J. de Vries"
    address: str = "Dorpsstraat 1"
    postcode: str = "9801 AA"
    city: str = "Zuidhorn"
    children: tuple[ChildSpec, ...] = ()
    email: str | None = None


def shop_row(spec: ShopSpec, status: str = "active", now: datetime = NOW) -> dict[str, Any]:
    """Return the column values of ``spec``'s shop row."""
    return asdict(spec) | {"bic": None, "status": status, "created_at": now}


def staff_row(
    shop_id: int, email: str, role: str, password_hash: str, now: datetime = NOW
) -> dict[str, Any]:
    """Return the column values of an active shop staff member (``owner`` or ``cashier``)."""
    return {
        "shop_id": shop_id,
        "email": email,
        "name": "Eigenaar" if role == "owner" else "Kassamedewerker",
        "password_hash": password_hash,
        "role": role,
        "active": True,
        "created_at": now,
    }


def household_row(fund_id: int, spec: HouseholdSpec, now: datetime = NOW) -> dict[str, Any]:
    """Return the column values of ``spec``'s household (no code, no PIN yet)."""
    return {
        "fund_id": fund_id,
        "reference": spec.reference,
        "parent_name": spec.parent_name,
        "address": spec.address,
        "postcode": spec.postcode,
        "city": spec.city,
        "email": spec.email,
        "pin_failures": 0,
        "created_at": now,
        "updated_at": now,
    }


def child_row(
    fund_id: int, household_id: int, spec: ChildSpec, now: datetime = NOW
) -> dict[str, Any]:
    """Return the column values of ``spec``'s child, named in the latest import."""
    return {
        "fund_id": fund_id,
        "household_id": household_id,
        "reference": spec.reference,
        "first_name": spec.first_name,
        "birth_date": spec.birth_date,
        "in_latest_import": True,
        "created_at": now,
        "updated_at": now,
    }


def approval_row(shop_id: int, fund_id: int, status: str, now: datetime = NOW) -> dict[str, Any]:
    """Return the column values of a decision on a shop for a fund."""
    return {
        "shop_id": shop_id,
        "fund_id": fund_id,
        "status": status,
        "decided_at": now,
        "decided_by": "test",
        "created_at": now,
    }


def issue_entry(fund: Fund, voucher_id: int, cents: int) -> store.NewEntry:
    """Return the ledger entry that puts ``cents`` of the fund's money on a voucher."""
    return store.NewEntry(
        "voucher.issue",
        [(fund.account, -cents), (voucher_account(voucher_id), cents)],
        {"fund": fund.id, "voucher": voucher_id},
    )


def municipality(
    session: Session,
    slug: str = "voorbeeld",
    name: str = "Gemeente Voorbeeld",
    *,
    iban: str = "NL91ABNA0417164300",
    bic: str = "ABNANL2A",
) -> Municipality:
    """Create a municipality with a valid IBAN."""
    m = Municipality(name=name, slug=slug, iban=iban, bic=bic, created_at=NOW)
    session.add(m)
    session.flush()  # the id names ledger accounts and foreign keys
    return m


def fund(
    session: Session,
    m: Municipality | None = None,
    *,
    name: str = "Kindpakket 2026",
    budget_cents: int = 30_000,
    deposit_cents: int = 10_000_000,
    start: date | None = None,
    end: date | None = None,
    categories: list[str] | None = None,
    show_balance_to_shop: bool = True,
) -> Fund:
    """Create an open fund running today, with its ledger accounts and a deposit."""
    m = m or municipality(session)
    today = amsterdam_today()
    f = Fund(
        municipality_id=m.id,
        name=name,
        period_start=start or today - timedelta(days=30),
        period_end=end or today + timedelta(days=300),
        budget_cents=budget_cents,
        reference_date=start or today - timedelta(days=30),
        age_bands=[],
        categories=categories or [],
        pro_rata=False,
        show_balance_to_shop=show_balance_to_shop,
        status="open",
        created_at=NOW,
    )
    session.add(f)
    session.flush()
    store.open_account(session, f.bank_account)
    store.open_account(session, f.account)
    store.append(
        session,
        "fund.deposit",
        [(f.bank_account, -deposit_cents), (f.account, deposit_cents)],
        meta={"fund": f.id},
    )
    return f


def activation_hash(code: str) -> str:
    """Return the stored hash of an activation code, as the wallet computes it."""
    return code_hash(code)


def family(
    session: Session,
    f: Fund,
    *,
    reference: str = "H-1",
    children: tuple[str, ...] = ("Anouk", "Daan"),
    code: str | None = None,
    budget_cents: int | None = None,
) -> tuple[Household, list[Voucher]]:
    """Create a household with children and funded vouchers; ``code`` sets its activation code."""
    spec = HouseholdSpec(
        reference=reference,
        children=tuple(
            ChildSpec(f"{reference}-C{i + 1}", first_name, date(2015 + i, 3, 1))
            for i, first_name in enumerate(children)
        ),
    )
    h = Household(
        **household_row(f.id, spec),
        code_hash=activation_hash(code) if code else None,
        code_issued_at=NOW if code else None,
    )
    session.add(h)
    session.flush()
    vouchers = []
    for child in spec.children:
        c = Child(**child_row(f.id, h.id, child))
        session.add(c)
        session.flush()
        v = Voucher(fund_id=f.id, child_id=c.id, status="active", created_at=NOW)
        session.add(v)
        session.flush()
        store.open_account(session, v.account, non_negative=True)
        amount = budget_cents if budget_cents is not None else f.budget_cents
        store.append_many(session, [issue_entry(f, v.id, amount)])
        vouchers.append(v)
    return h, vouchers


def shop(
    session: Session,
    f: Fund | None = None,
    *,
    name: str = "Fietsenwinkel De Spaak",
    kvk: str = "12345678",
    category: str = "bicycles",
    owner_email: str = "eigenaar@spaak.example",
    cashier_email: str | None = "kassa@spaak.example",
    approval: str | None = "approved",
) -> tuple[Shop, ShopUser, ShopUser | None]:
    """Create an active shop with an owner (and cashier), approved for ``f`` when given."""
    iban = "NL02ABNA0123456789" if kvk == "12345678" else "NL20INGB0001234567"
    s = Shop(**shop_row(ShopSpec(name, kvk, iban, category, owner_email)))
    session.add(s)
    session.flush()
    owner = ShopUser(**staff_row(s.id, owner_email, "owner", hash_secret(PASSWORD)))
    session.add(owner)
    cashier = None
    if cashier_email:
        cashier = ShopUser(**staff_row(s.id, cashier_email, "cashier", hash_secret(PASSWORD)))
        session.add(cashier)
    if f is not None and approval:
        session.add(ShopApproval(**approval_row(s.id, f.id, approval)))
        store.open_account(session, payable_account(s.id, f.id))
    session.flush()
    return s, owner, cashier


def admin_user(
    session: Session,
    m: Municipality,
    *,
    email: str = "beheer@voorbeeld.example",
    role: str = "administrator",
    totp_secret: str | None = None,
) -> AdminUser:
    """Create a municipality staff member with password ``PASSWORD``."""
    u = AdminUser(
        municipality_id=m.id,
        email=email,
        name="Beheerder",
        password_hash=hash_secret(PASSWORD),
        role=role,
        totp_secret=totp_secret,
        active=True,
        created_at=NOW,
    )
    session.add(u)
    session.flush()
    return u
