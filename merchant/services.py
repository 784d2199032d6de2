"""Shop use cases: apply to join, staff, bank details."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from kindpakket import logins
from kindpakket.audit import record_event
from kindpakket.emails import checked_address
from kindpakket.errors import DomainError
from kindpakket.iban import compact_iban
from kindpakket.passwords import check_password_strength, hash_secret, verify_secret
from kindpakket.sepatext import sepa_name
from merchant import hours, notify
from merchant.auth import ShopPrincipal
from merchant.models import Shop, ShopHours, ShopUser, shop_fund_ids

CATEGORIES: dict[str, object] = {
    "clothing": _l("Clothing and shoes"),
    "sports": _l("Sports"),
    "books_school": _l("Books and school supplies"),
    "bicycles": _l("Bicycles"),
    "toys": _l("Toys"),
    "food": _l("Food"),
    "culture": _l("Culture and music"),
    "other": _l("Other"),
}
KVK_RE = re.compile(r"^\d{8}$")
MAX_NAME = 120  # the column's length


@dataclass(frozen=True)
class Application:
    """What a shop fills in on the public application page."""

    name: str
    kvk: str
    iban: str
    address: str
    postcode: str
    city: str
    category: str
    email: str
    owner_name: str
    owner_email: str
    password: str
    hours: hours.Week | None = None  # optional on the form; checked by merchant.hours


def normalise_iban(text: str) -> str:
    """Return the compact IBAN or raise ``invalid_iban``."""
    try:
        return compact_iban(text)
    except ValueError:
        raise DomainError(
            "invalid_iban", _l("This IBAN is not valid. Check the number on your bank card.")
        ) from None


def normalise_kvk(text: str) -> str:
    """Return the 8-digit KvK number or raise ``invalid_kvk``."""
    kvk = re.sub(r"[\s.]", "", text or "")
    if not KVK_RE.match(kvk):
        raise DomainError("invalid_kvk", _l("A KvK number has exactly 8 digits."))
    return kvk


def check_legal_name(name: str) -> str:
    """Return the shop's legal name, refusing one no bank transfer could carry.

    The municipality pays shops by SEPA transfer in the shop's name; a name with no letter
    or digit of the SEPA character set (e.g. only Chinese or Arabic script) could be
    approved and take payments, but never be paid.
    """
    name = " ".join((name or "").split())
    if not name:
        raise DomainError("missing_field", _l("Fill in the name and address of the shop."))
    if len(name) > MAX_NAME:
        raise DomainError("name_too_long", _l("A shop name has at most 120 characters."))
    if not sepa_name(name):
        raise DomainError(
            "name_not_sepa",
            _l(
                "A bank transfer cannot carry this name. Give the legal name as registered"
                " with the KvK, in Latin letters or digits (A-Z, 0-9)."
            ),
        )
    return name


def _check_password(password: str, *context: str) -> None:
    check_password_strength(password, context)


def apply_shop(session: Session, form: Application, *, ip: str | None = None) -> Shop:
    """Register a shop application (status pending) with its owner's login."""
    kvk = normalise_kvk(form.kvk)
    iban = normalise_iban(form.iban)
    if form.category not in CATEGORIES:
        raise DomainError("bad_category", _l("Choose a category from the list."))
    email = checked_address(form.email)
    owner_email = checked_address(form.owner_email)
    _check_password(form.password, owner_email, form.owner_name, form.name, email)
    name = check_legal_name(form.name)
    if not form.address.strip() or not form.city.strip():
        raise DomainError("missing_field", _l("Fill in the name and address of the shop."))
    if session.execute(select(Shop.id).where(Shop.kvk == kvk)).first():
        raise DomainError("kvk_taken", _l("A shop with this KvK number has already applied."))
    logins.refuse_taken(session, ShopPrincipal, owner_email)
    now = datetime.now(UTC)
    shop = Shop(
        name=name,
        kvk=kvk,
        iban=iban,
        bic=None,
        address=form.address.strip(),
        postcode=form.postcode.strip().upper(),
        city=form.city.strip(),
        category=form.category,
        email=email,
        status="pending",
        created_at=now,
    )
    session.add(shop)
    session.flush()  # the shop id goes into the owner row and the audit event
    owner = ShopUser(
        shop_id=shop.id,
        email=owner_email,
        name=form.owner_name.strip() or owner_email,
        password_hash=hash_secret(form.password),
        role="owner",
        active=True,
        created_at=now,
    )
    session.add(owner)
    session.flush()  # the owner id names the actor
    applied = {"name": shop.name, "kvk": kvk, "category": shop.category}
    if form.hours is not None and (form.hours.given or form.hours.note):
        _store_hours(session, shop, form.hours)
        applied |= form.hours.audit()
    record_event(
        session,
        "shop.applied",
        actor=f"shop_user:{owner.id}",
        subject=f"shop:{shop.id}",
        after=applied,
        ip=ip,
    )
    notify.shop_applied(session, shop)
    return shop


def add_staff(
    session: Session, owner: ShopUser, *, email: str, name: str, password: str
) -> ShopUser:
    """Add a cashier to the owner's shop."""
    require_owner(owner)
    return logins.create_staff(
        session,
        ShopPrincipal,
        email=email,
        name=name,
        password=password,
        actor=f"shop_user:{owner.id}",
        shop_id=owner.shop_id,
        role="cashier",
    )


def set_staff_active(session: Session, owner: ShopUser, user_id: int, *, active: bool) -> ShopUser:
    """Switch a cashier of the owner's shop off or on again."""
    require_owner(owner)
    user = session.get(ShopUser, user_id)
    if user is None or user.shop_id != owner.shop_id or user.role != "cashier":
        raise DomainError("not_found", _l("There is no such cashier in your shop."))
    before = user.active
    user.active = active
    if not active:
        logins.end_sessions(user)  # a cashier switched on again must log in again
    record_event(
        session,
        "shop_user.activated" if active else "shop_user.deactivated",
        actor=f"shop_user:{owner.id}",
        subject=f"shop_user:{user.id}",
        funds=shop_fund_ids(session, owner.shop_id),
        before={"active": before},
        after={"active": active},
    )
    return user


def change_iban(
    session: Session, owner: ShopUser, *, iban: str, password: str, ip: str | None = None
) -> Shop:
    """Change the shop's IBAN after checking the owner's password again; audited."""
    require_owner(owner)
    if not verify_secret(owner.password_hash, password or ""):
        raise DomainError("bad_password", _l("Your password is wrong."))
    compact = normalise_iban(iban)
    shop = session.get(Shop, owner.shop_id)
    assert shop is not None  # owner rows always belong to a shop (foreign key)
    before = shop.iban
    shop.iban = compact
    shop.iban_check_reason = None  # the owner looked at the account the bank returned
    record_event(
        session,
        "shop.iban_changed",
        actor=f"shop_user:{owner.id}",
        subject=f"shop:{shop.id}",
        funds=shop_fund_ids(session, shop.id),
        before={"iban": before},
        after={"iban": compact},
        ip=ip,
    )
    return shop


def week_of(session: Session, shop: Shop) -> hours.Week:
    """Return the shop's opening hours (an empty week when it gave none)."""
    return weeks_of(session, [shop])[shop.id]


def weeks_of(session: Session, shops: Iterable[Shop]) -> dict[int, hours.Week]:
    """Return the opening hours of many shops in one query, by shop id."""
    by_id = {shop.id: shop for shop in shops}
    rows: dict[int, list[tuple[int, int, int]]] = {shop_id: [] for shop_id in by_id}
    for start in range(0, len(by_id), 500):
        chunk = list(by_id)[start : start + 500]
        for row in session.execute(
            select(
                ShopHours.shop_id,
                ShopHours.weekday,
                ShopHours.opens_minute,
                ShopHours.closes_minute,
            ).where(ShopHours.shop_id.in_(chunk))
        ):
            rows[row[0]].append((row[1], row[2], row[3]))
    return {
        shop_id: hours.from_minutes(found, by_id[shop_id].hours_note)
        for shop_id, found in rows.items()
    }


def change_hours(
    session: Session, owner: ShopUser, week: hours.Week, *, ip: str | None = None
) -> Shop:
    """Replace the shop's opening hours and note (owner only); audited with before and after."""
    require_owner(owner)
    shop = session.get(Shop, owner.shop_id)
    assert shop is not None  # owner rows always belong to a shop (foreign key)
    before = week_of(session, shop)
    _store_hours(session, shop, week)
    record_event(
        session,
        "shop.hours_changed",
        actor=f"shop_user:{owner.id}",
        subject=f"shop:{shop.id}",
        funds=shop_fund_ids(session, shop.id),
        before=before.audit(),
        after=week.audit(),
        ip=ip,
    )
    return shop


def _store_hours(session: Session, shop: Shop, week: hours.Week) -> None:
    """Write a checked week over the shop's stored one (rows replaced as a whole)."""
    session.execute(delete(ShopHours).where(ShopHours.shop_id == shop.id))
    session.add_all(
        ShopHours(shop_id=shop.id, weekday=day, opens_minute=p.opens, closes_minute=p.closes)
        for day, periods in enumerate(week.days)
        for p in periods
    )
    shop.hours_note = week.note


def ask_to_check_iban(session: Session, shop_id: int, reason: str | None) -> None:
    """Ask the shop's owner to check the IBAN: the bank returned a payout (ISO reason code)."""
    shop = session.get(Shop, shop_id)
    if shop is not None:
        shop.iban_check_reason = (reason or "NARR")[:4]


def iban_works(session: Session, shop_ids: Iterable[int]) -> None:
    """Clear the request to check the IBAN of these shops: the bank booked a payout to them."""
    ids = sorted(set(shop_ids))
    for start in range(0, len(ids), 500):
        session.execute(
            update(Shop)
            .where(Shop.id.in_(ids[start : start + 500]), Shop.iban_check_reason.is_not(None))
            .values(iban_check_reason=None)
            .execution_options(synchronize_session="fetch")
        )


def staff(session: Session, shop_id: int) -> list[ShopUser]:
    """Return the logins of a shop, owner first."""
    return list(
        session.execute(
            select(ShopUser)
            .where(ShopUser.shop_id == shop_id)
            .order_by(ShopUser.role.desc(), ShopUser.id)
        ).scalars()
    )


def require_owner(user: ShopUser) -> None:
    """Refuse a cashier (or a switched-off login) what only the shop's owner may do."""
    if user.role != "owner" or not user.active:
        raise DomainError("owner_only", _l("Only the shop owner can do this."))
