"""Families: households, children, vouchers, activation and PIN, QR tokens, wallet pages."""
