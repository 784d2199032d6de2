"""Funds: setting up, eligibility import, issuance, activation letters, closing."""
