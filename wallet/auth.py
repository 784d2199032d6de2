"""Family logins: Flask-Login ids ``household:<household id>:<device session id>``.

Each device has a ``FamilySession`` row; a revoked row logs that device out on its next
request, because the loader no longer finds it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cached_property

from flask import current_app, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from kindpakket import auth
from kindpakket.db import db
from wallet.activation import PinPolicy, active_session
from wallet.models import FamilySession, Household

ROLE = "family"
SEEN_EVERY = timedelta(minutes=1)


class FamilyPrincipal(auth.Principal):
    """A logged-in device of a household as Flask-Login sees it."""

    prefix = "household"

    def __init__(self, household_id: int, session_id: str) -> None:
        super().__init__(f"{self.prefix}:{household_id}:{session_id}", household_id, ROLE)
        self.household_id = household_id
        self.session_id = session_id

    @cached_property
    def language(self) -> str | None:
        """Return the household's language from the import, or None (read once, when asked).

        :func:`kindpakket.i18n.select_locale` uses it when no cookie names a language.
        """
        query = select(Household.language).where(Household.id == self.household_id)
        return db.session.scalar(query)


def _load(rest: str) -> FamilyPrincipal | None:
    household_part, _, session_id = rest.partition(":")
    if not household_part.isdigit() or not session_id:
        return None
    row = active_session(db.session, int(household_part), session_id)
    if row is None:
        return None
    _touch(row)
    return FamilyPrincipal(row.household_id, row.id)


def _touch(row: FamilySession) -> None:
    """Note when a device was last seen (only on write requests: GETs stay read-only)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    now = datetime.now(UTC)
    if now - row.last_seen_at > SEEN_EVERY:
        row.last_seen_at = now


auth.register_role("household", _load, "wallet.login", (ROLE,))


def principal_for(row: FamilySession) -> FamilyPrincipal:
    """Return the principal to log in for a fresh device session."""
    return FamilyPrincipal(row.household_id, row.id)


def me() -> FamilyPrincipal:
    """Return the logged-in family device (views are guarded by ``require_role``)."""
    return current_user  # type: ignore[return-value]


def household(session: Session | None = None) -> Household:
    """Return the logged-in household."""
    found = (session or db.session).get(Household, me().household_id)
    assert found is not None  # the loader checked the session row and its foreign key
    return found


def pin_policy() -> PinPolicy:
    """Return the PIN lockout settings of the app."""
    return PinPolicy(
        max_attempts=int(current_app.config.get("PIN_MAX_ATTEMPTS", 5)),
        lockout_seconds=int(current_app.config.get("PIN_LOCKOUT_SECONDS", 900)),
    )


def token_ttl() -> int:
    """Return how long a shown payment code stays valid, in seconds."""
    return int(current_app.config.get("TOKEN_TTL_SECONDS", 120))


_PLATFORMS = ("Android", "iPhone", "iPad", "Windows", "Macintosh", "CrOS", "Linux")
_BROWSERS = ("Edg", "Firefox", "SamsungBrowser", "Chrome", "Safari")


def device_label() -> str:
    """Return a short description of the browser for the device list, e.g. "Android, Chrome"."""
    agent = request.user_agent.string or ""
    platform = next((p for p in _PLATFORMS if p in agent), "")
    browser = next((b for b in _BROWSERS if b in agent), "")
    label = ", ".join(p for p in (platform, browser.replace("Edg", "Edge")) if p)
    return (label or agent or "?")[:200]
