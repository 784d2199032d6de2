"""A family's e-mail address for notices: from the municipality's CSV, or added in the wallet.

An address in the import (``e_mail`` column, ``households.email``) is the municipality's
own record and is used as it is. An address typed in the wallet is used only after the
family opened the confirmation link sent to it; until then the CSV address (if any) stays
in use. Households without a usable address get printed reminders instead
(``admin/reminders.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from kindpakket import outbox
from kindpakket.audit import record_event
from kindpakket.errors import DomainError
from kindpakket.outbox import Recipient
from ledger.base import Base, UtcDateTime
from wallet.models import Household

SALT = "kindpakket-household-email"
CONFIRM_DAYS = 7
EMAIL_MAX = 200


class HouseholdEmail(Base):
    """The address a family added in its wallet, and whether it has been confirmed."""

    __tablename__ = "household_emails"

    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), primary_key=True)
    email: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(5))  # the wallet's language when added
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # None: link not opened


def recipients(session: Session, household_ids: Iterable[int]) -> dict[int, Recipient]:
    """Return the usable address of each household that has one (one query per 500)."""
    ids = list(dict.fromkeys(household_ids))
    found: dict[int, Recipient] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = session.execute(
            select(
                Household.id,
                Household.email,
                HouseholdEmail.email,
                HouseholdEmail.language,
                HouseholdEmail.confirmed_at,
            )
            .outerjoin(HouseholdEmail, HouseholdEmail.household_id == Household.id)
            .where(Household.id.in_(chunk))
        )
        for hid, csv_email, own, language, confirmed in rows:
            address = own if own and confirmed else csv_email
            if address:
                found[hid] = Recipient(f"household:{hid}", address, language or "nl")
    return found


def recipient(session: Session, household: Household) -> Recipient | None:
    """Return the household's usable address, or None."""
    return recipients(session, [household.id]).get(household.id)


def notify(session: Session, household: Household, event: str, params: dict[str, Any]) -> bool:
    """Queue ``event`` for the household if it has an address and wants it."""
    to = recipient(session, household)
    if to is None:
        return False
    return outbox.enqueue(
        session, event, to, params, municipality_id=household.fund.municipality_id
    )


def wallet_url() -> str:
    """Return the absolute URL of the wallet (the messages' button)."""
    return outbox.absolute_url("/wallet/")


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def pending(session: Session, household: Household) -> HouseholdEmail | None:
    """Return the address the family added in the wallet (confirmed or not)."""
    return session.get(HouseholdEmail, household.id)


def request_address(
    session: Session, household: Household, email: str, language: str, *, actor: str
) -> None:
    """Remember ``email`` unconfirmed and send it a confirmation link."""
    from email_validator import EmailNotValidError, validate_email

    try:
        email = validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise DomainError("bad_email", _l("That is not an e-mail address.")) from None
    if len(email) > EMAIL_MAX:
        raise DomainError("bad_email", _l("That is not an e-mail address."))
    row = session.get(HouseholdEmail, household.id)
    now = datetime.now(UTC)
    if row is None:
        row = HouseholdEmail(household_id=household.id, email=email, language=language)
        session.add(row)
    row.email, row.language, row.requested_at, row.confirmed_at = email, language, now, None
    token = _serializer().dumps({"h": household.id, "e": email})
    url = f"{current_app.config['BASE_URL'].rstrip('/')}/wallet/email/confirm/{token}"
    outbox.enqueue(
        session,
        "family.email_confirm",
        Recipient(f"household:{household.id}", email, language),
        {"url": url},
        municipality_id=household.fund.municipality_id,
    )
    record_event(
        session,
        "household.email_added",
        actor=actor,
        subject=f"household:{household.id}",
        tenant_id=household.fund.municipality_id,
        after={"confirmed": False},  # never the address itself
    )


def confirm(session: Session, token: str, *, actor: str | None = None) -> Household:
    """Confirm the address named in ``token``; refuse a stale, forged or replaced link."""
    try:
        data = _serializer().loads(token, max_age=CONFIRM_DAYS * 86400)
    except SignatureExpired:
        raise DomainError(
            "link_expired", _l("This link has expired. Please add your e-mail address again.")
        ) from None
    except BadSignature:
        raise DomainError("link_invalid", _l("This link is not valid.")) from None
    row = session.get(HouseholdEmail, int(data["h"]))
    household = session.get(Household, int(data["h"]))
    if row is None or household is None or row.email != data["e"]:
        raise DomainError("link_invalid", _l("This link is not valid."))
    if row.confirmed_at is None:
        row.confirmed_at = datetime.now(UTC)
        record_event(
            session,
            "household.email_confirmed",
            actor=actor or f"household:{household.id}",
            subject=f"household:{household.id}",
            tenant_id=household.fund.municipality_id,
            after={"confirmed": True},
        )
    return household
