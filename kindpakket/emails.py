"""E-mail addresses: the one check, by ``email-validator`` (syntax only, no DNS look-up)."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


def is_email_address(text: str) -> bool:
    """Return True when ``text`` is a well-formed e-mail address (its domain is not looked up)."""
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True
