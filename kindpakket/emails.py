"""E-mail addresses: the one check, by ``email-validator`` (syntax only, no DNS look-up)."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l

from kindpakket.errors import DomainError

MAX_LENGTH = 200  # the e-mail columns' length


def is_email_address(text: str) -> bool:
    """Return True when ``text`` is a well-formed e-mail address (its domain is not looked up)."""
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def checked_address(text: str) -> str:
    """Return ``text`` trimmed and in lower case if it is an e-mail address, else ``bad_email``."""
    email = (text or "").strip().lower()
    if len(email) > MAX_LENGTH or not is_email_address(email):
        raise DomainError("bad_email", _l("That is not an e-mail address."))
    return email
