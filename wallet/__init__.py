"""Families: households, children, vouchers, activation and PIN, QR tokens, wallet pages."""

from wallet import statuses as _statuses  # noqa: F401  (registers the HTTP status per code)
