"""Marshmallow schemas of the merchant API (shown in /api/v1/openapi.json)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from kindpakket.openapi import Cents, Day, UtcDateTime


class RedemptionIn(Schema):
    """A payment request from the scanner page: a token or a typed code, an amount, a key."""

    token = fields.String(load_default=None, validate=validate.Length(max=700))
    code = fields.String(load_default=None, validate=validate.Length(max=40))
    # The family's PIN, typed on the PIN pad when the token is a printed pass ("KP2:...").
    pin = fields.String(load_default=None, validate=validate.Length(max=12))
    amount_cents = fields.Integer(required=True, strict=True)
    idempotency_key = fields.String(required=True, validate=validate.Length(min=8, max=80))


class PaymentOut(Schema):
    """A payment as the shop sees it: never a child's name or household data."""

    status = fields.String(metadata={"example": "paid"})
    id = fields.Integer()
    receipt_number = fields.String(metadata={"example": "B-000123"})
    amount_cents = fields.Integer()
    amount = fields.String(metadata={"example": "€ 12,50"})
    refunded_cents = fields.Integer()
    ledger_seq = fields.Integer()
    entry_hash = fields.String()
    verify_url = fields.String()
    created_at = UtcDateTime()
    balance_cents = fields.Integer(allow_none=True)
    balance = fields.String(allow_none=True)
    replayed = fields.Boolean()


class RefundIn(Schema):
    """A refund of (part of) a payment."""

    amount_cents = Cents(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=300))
    idempotency_key = fields.String(load_default=None, validate=validate.Length(min=8, max=80))


class RefundOut(Schema):
    """A refund as the shop sees it."""

    status = fields.String(metadata={"example": "refunded"})
    id = fields.Integer()
    redemption_id = fields.Integer()
    receipt_number = fields.String(metadata={"example": "R-000124"})
    amount_cents = fields.Integer()
    amount = fields.String()
    refundable_cents = fields.Integer()
    ledger_seq = fields.Integer()
    entry_hash = fields.String()
    verify_url = fields.String()
    created_at = UtcDateTime()
    replayed = fields.Boolean()


class PeriodIn(Schema):
    """A period filter: first and last day, both optional."""

    start = Day(load_default=None, data_key="from")
    end = Day(load_default=None, data_key="to")


class LineOut(Schema):
    """One payment or refund in the shop's list."""

    kind = fields.String(metadata={"example": "payment"})
    id = fields.Integer()
    redemption_id = fields.Integer()
    created_at = UtcDateTime()
    amount_cents = fields.Integer()
    receipt_number = fields.String()
    cashier = fields.String()
    fund_id = fields.Integer()
    ledger_seq = fields.Integer()
    entry_hash = fields.String()
    refundable_cents = fields.Integer(allow_none=True)


class LinesOut(Schema):
    """The shop's payments and refunds in a period, with totals."""

    lines = fields.List(fields.Nested(LineOut))
    paid_cents = fields.Integer()
    refunded_cents = fields.Integer()
    net_cents = fields.Integer()
    paid_out_cents = fields.Integer()
    owed_cents = fields.Integer()


class OpeningIn(Schema):
    """One opening period of a weekday, local (Dutch) time; checked by merchant.hours."""

    opens = fields.String(
        required=True, validate=validate.Length(max=10), metadata={"example": "09:00"}
    )
    closes = fields.String(
        required=True, validate=validate.Length(max=10), metadata={"example": "17:30"}
    )


class OpeningOut(Schema):
    """One opening period: "HH:MM" to "HH:MM" (24:00 closes at midnight)."""

    opens = fields.String(metadata={"example": "09:00"})
    closes = fields.String(metadata={"example": "17:30"})


def _day(nested: type[Schema], **kwargs: object) -> fields.List:
    about = "at most two periods, not overlapping; none: closed that day"
    return fields.List(fields.Nested(nested), metadata={"description": about}, **kwargs)


class HoursIn(Schema):
    """The shop's opening hours per weekday (missing days are closed) and a short note."""

    monday = _day(OpeningIn, load_default=list)
    tuesday = _day(OpeningIn, load_default=list)
    wednesday = _day(OpeningIn, load_default=list)
    thursday = _day(OpeningIn, load_default=list)
    friday = _day(OpeningIn, load_default=list)
    saturday = _day(OpeningIn, load_default=list)
    sunday = _day(OpeningIn, load_default=list)
    note = fields.String(
        load_default=None, allow_none=True, metadata={"example": "Closed on public holidays"}
    )


class HoursOut(Schema):
    """The shop's opening hours as the public list shows them."""

    given = fields.Boolean(metadata={"description": "false: the shop has not given its hours"})
    monday = _day(OpeningOut)
    tuesday = _day(OpeningOut)
    wednesday = _day(OpeningOut)
    thursday = _day(OpeningOut)
    friday = _day(OpeningOut)
    saturday = _day(OpeningOut)
    sunday = _day(OpeningOut)
    note = fields.String(allow_none=True)
