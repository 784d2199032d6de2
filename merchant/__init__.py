"""Shops: onboarding, staff, redemption service, refunds, scanner page."""
