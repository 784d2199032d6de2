"""Data made through the real use cases, as the municipality, shops and families make it.

Every step is validated, audited and notified as in production: staff accounts, the
eligibility file's import (households, children, vouchers, budgets), shop applications,
cashiers and approvals, payments by signed token. A world made here verifies and every
page has something to show; the demo (``kindpakket/demo.py``) is built of these. Needs an
app context (translations, audit, notifications).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import asdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin import auth as admin_auth
from admin.funds import csvimport, importer
from admin.models import AdminUser
from admin.shops import services as shop_approval
from kindpakket.keys import Keyring
from kindpakket.seeding.rows import HouseholdSpec, ShopSpec
from merchant import redemptions
from merchant import services as merchant_services
from merchant.hours import Week
from merchant.models import Shop, ShopUser
from wallet import services as wallet_services
from wallet.models import Child, Fund, Household, Municipality, Voucher

# The columns of the eligibility file this module writes (headers as the Dutch template).
_CSV_COLUMNS = (
    "household_ref",
    "parent_name",
    "address",
    "postcode",
    "city",
    "email",
    "child_ref",
    "child_first_name",
    "birth_date",
)


def staff(
    session: Session,
    m: Municipality,
    members: Iterable[tuple[str, str]],
    *,
    password: str,
    actor: str,
) -> list[AdminUser]:
    """Create the municipality's staff, ``(e-mail, role)`` each, all with ``password``."""
    return [
        admin_auth.create_user(
            session, m, email=email, name=role.title(), role=role, password=password, actor=actor
        )[0]
        for email, role in members
    ]


def eligible_csv(households: Iterable[HouseholdSpec]) -> bytes:
    """Return the eligibility file of ``households`` as a municipality uploads it."""
    header = ";".join(csvimport.BY_KEY[key].dutch for key in _CSV_COLUMNS)
    lines = [header]
    for h in households:
        for child in h.children:
            values = {
                "household_ref": h.reference,
                "parent_name": h.parent_name,
                "address": h.address,
                "postcode": h.postcode,
                "city": h.city,
                "email": h.email or "",
                "child_ref": child.reference,
                "child_first_name": child.first_name,
                "birth_date": child.birth_date.isoformat(),
            }
            lines.append(";".join(values[key] for key in _CSV_COLUMNS))
    return ("\ufeff" + "\n".join(lines) + "\n").encode()


def households(
    session: Session,
    fund: Fund,
    specs: Iterable[HouseholdSpec],
    *,
    actor: str,
    filename: str = "seed.csv",
) -> list[Household]:
    """Import ``specs`` into the fund (budgets issued); return its households by reference."""
    summary = importer.import_rows(
        session, fund, eligible_csv(specs), actor=actor, filename=filename
    )
    assert summary.imported, summary.errors[:3]
    query = select(Household).where(Household.fund_id == fund.id).order_by(Household.reference)
    return list(session.execute(query).scalars())


def shop(
    session: Session,
    spec: ShopSpec,
    *,
    password: str,
    cashier_email: str | None = None,
    fund: Fund | None = None,
    hours: Week | None = None,
    actor: str,
) -> tuple[Shop, ShopUser, ShopUser | None]:
    """Apply as a shop (owner ``spec.email``, opening ``hours``), add a cashier, approve it.

    Without ``fund`` the application waits for a decision.
    """
    application = merchant_services.Application(
        **asdict(spec),
        owner_name="Eigenaar",
        owner_email=spec.email,
        password=password,
        hours=hours,
    )
    s = merchant_services.apply_shop(session, application)
    owner = session.execute(select(ShopUser).where(ShopUser.shop_id == s.id)).scalar_one()
    cashier = None
    if cashier_email:
        cashier = merchant_services.add_staff(
            session, owner, email=cashier_email, name="Kassa", password=password
        )
    if fund is not None:
        shop_approval.approve(session, s, fund, actor=actor)
    return s, owner, cashier


def pay(
    session: Session,
    household: Household,
    cashier: ShopUser,
    cents: int,
    *,
    keyring: Keyring,
) -> redemptions.Payment:
    """Pay ``cents`` from the household's first voucher: its QR token, scanned by ``cashier``."""
    query = select(Voucher).join(Voucher.child).where(Child.household_id == household.id)
    voucher = session.execute(query.order_by(Voucher.id)).scalars().first()
    assert voucher is not None
    qr = wallet_services.issue_payment(session, voucher, keyring=keyring)
    return redemptions.redeem(
        session,
        cashier=cashier,
        amount_cents=cents,
        idempotency_key=uuid.uuid4().hex,
        keyring=keyring,
        token=qr.token,
    )
