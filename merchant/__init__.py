"""Shops: onboarding, staff, redemption service, refunds, scanner page."""

from merchant import nonces as _nonces
from merchant import statuses as _statuses  # noqa: F401  (registers the HTTP status per code)
from wallet import payments as _payments

_payments.record_spent_nonces(_nonces.spent)
