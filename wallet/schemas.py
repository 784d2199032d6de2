"""Marshmallow schemas of the wallet API (shown in /api/v1/openapi.json)."""

from __future__ import annotations

from marshmallow import Schema, fields

from kindpakket.openapi import UtcDateTime


class VoucherSchema(Schema):
    """One child's budget as the family sees it."""

    voucher_id = fields.Integer(required=True)
    child_first_name = fields.String(required=True)
    balance_cents = fields.Integer(required=True, metadata={"description": "remaining, in cents"})
    balance = fields.String(metadata={"description": "remaining, formatted (€ 12,50)"})
    status = fields.String(required=True, metadata={"description": "active | blocked | expired"})
    fund_id = fields.Integer(required=True)
    fund_name = fields.String(required=True)
    fund_status = fields.String(required=True)
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)


class VoucherListSchema(Schema):
    """The household's budgets."""

    vouchers = fields.List(fields.Nested(VoucherSchema), required=True)


class PaymentTokenSchema(Schema):
    """A fresh payment QR code and its numeric fallback code."""

    token = fields.String(required=True, metadata={"description": "KP1: + base32"})
    voucher_id = fields.Integer(required=True)
    kid = fields.String(required=True, metadata={"description": "signing key id (hex)"})
    expires_at = fields.Integer(required=True, metadata={"description": "unix seconds"})
    expires_in = fields.Integer(required=True, metadata={"description": "seconds from now"})
    ttl = fields.Integer(required=True)
    payment_code = fields.String(required=True, metadata={"description": "digits only"})
    payment_code_display = fields.String(required=True, metadata={"description": "grouped"})
    qr_svg = fields.String(required=True, metadata={"description": "data: URI of the SVG"})
    qr_alt = fields.String(required=True, metadata={"description": "text alternative"})


class HistoryItemSchema(Schema):
    """A payment (negative amount) or refund (positive amount) from the ledger."""

    ledger_seq = fields.Integer(required=True)
    entry_hash = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "redemption | refund"})
    voucher_id = fields.Integer(required=True)
    child_first_name = fields.String(required=True)
    shop_id = fields.Integer(allow_none=True)
    shop_name = fields.String(required=True)
    receipt = fields.String(required=True)
    amount_cents = fields.Integer(required=True)
    at = UtcDateTime(required=True)
    receipt_url = fields.String(required=True)


class HistorySchema(Schema):
    """Every payment and refund of the household, newest first."""

    items = fields.List(fields.Nested(HistoryItemSchema), required=True)


class PinSchema(Schema):
    """The household's PIN."""

    pin = fields.String(required=True, load_only=True)


class DeviceSchema(Schema):
    """A logged-in device."""

    id = fields.String(required=True)
    device = fields.String(required=True)
    created_at = UtcDateTime(required=True)
    last_seen_at = UtcDateTime(required=True)
    current = fields.Boolean(required=True)


class DeviceListSchema(Schema):
    """The household's logged-in devices."""

    devices = fields.List(fields.Nested(DeviceSchema), required=True)
