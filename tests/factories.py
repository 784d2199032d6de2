"""Builders of test data: the one-row builders of :mod:`kindpakket.seeding.rows`.

They set up the world a test starts from (a municipality, a fund with budget, a family
with funded vouchers, an approved shop); the use cases under test still go through the
services. Every builder flushes, so ids are known; the test commits when it needs to.
"""

from kindpakket.seeding.rows import (
    NOW,
    PASSWORD,
    activation_hash,
    admin_user,
    family,
    fund,
    municipality,
    shop,
)

__all__ = [
    "NOW",
    "PASSWORD",
    "activation_hash",
    "admin_user",
    "family",
    "fund",
    "municipality",
    "shop",
]
