"""Builders of test data straight on models and the ledger, for tests of any package.

They set up the world a test starts from (a municipality, a fund with budget, a family
with funded vouchers, an approved shop); the use cases under test still go through the
services. Every builder flushes, so ids are known; the test commits when it needs to.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from admin.models import AdminUser
from kindpakket.passwords import hash_secret
from ledger import store
from merchant.models import Shop, ShopApproval, ShopUser, payable_account
from wallet.models import Child, Fund, Household, Municipality, Voucher
from wallet.services import code_hash

NOW = datetime.now(UTC)
PASSWORD = "correct horse battery"


def municipality(session: Session, slug: str = "voorbeeld", name: str = "Gemeente Voorbeeld"):
    """Create a municipality with a valid IBAN."""
    m = Municipality(
        name=name, slug=slug, iban="NL91ABNA0417164300", bic="ABNANL2A", created_at=NOW
    )
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
    today = date.today()
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
    h = Household(
        fund_id=f.id,
        reference=reference,
        parent_name="J. de Vries",
        address="Dorpsstraat 1",
        postcode="9801 AA",
        city="Zuidhorn",
        code_hash=activation_hash(code) if code else None,
        code_issued_at=NOW if code else None,
        pin_failures=0,
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(h)
    session.flush()
    vouchers = []
    for i, first_name in enumerate(children):
        c = Child(
            fund_id=f.id,
            household_id=h.id,
            reference=f"{reference}-C{i + 1}",
            first_name=first_name,
            birth_date=date(2015 + i, 3, 1),
            in_latest_import=True,
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(c)
        session.flush()
        v = Voucher(fund_id=f.id, child_id=c.id, status="active", created_at=NOW)
        session.add(v)
        session.flush()
        store.open_account(session, v.account, non_negative=True)
        amount = budget_cents if budget_cents is not None else f.budget_cents
        store.append(
            session,
            "voucher.issue",
            [(f.account, -amount), (v.account, amount)],
            meta={"fund": f.id, "voucher": v.id},
        )
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
    s = Shop(
        name=name,
        kvk=kvk,
        iban="NL02ABNA0123456789" if kvk == "12345678" else "NL20INGB0001234567",
        bic=None,
        address="Stationsweg 2",
        postcode="9801 AB",
        city="Zuidhorn",
        category=category,
        email=owner_email,
        status="active",
        created_at=NOW,
    )
    session.add(s)
    session.flush()
    owner = ShopUser(
        shop_id=s.id,
        email=owner_email,
        name="Eigenaar",
        password_hash=hash_secret(PASSWORD),
        role="owner",
        active=True,
        created_at=NOW,
    )
    session.add(owner)
    cashier = None
    if cashier_email:
        cashier = ShopUser(
            shop_id=s.id,
            email=cashier_email,
            name="Kassamedewerker",
            password_hash=hash_secret(PASSWORD),
            role="cashier",
            active=True,
            created_at=NOW,
        )
        session.add(cashier)
    if f is not None and approval:
        session.add(
            ShopApproval(
                shop_id=s.id,
                fund_id=f.id,
                status=approval,
                decided_at=NOW,
                decided_by="test",
                created_at=NOW,
            )
        )
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
