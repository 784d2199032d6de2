"""Municipality: funds, eligibility import, issuance, letters, shops, reports, settlement."""

from admin import statuses as _statuses  # noqa: F401  (registers the HTTP status per code)
