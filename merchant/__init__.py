"""Shops: onboarding, staff, redemption service, refunds, scanner page."""

from merchant import statuses as _statuses  # noqa: F401  (registers the HTTP status per code)
