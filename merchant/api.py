"""JSON API of the merchant package under /api/v1/merchant (used by the scanner page)."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify, request
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from kindpakket.appkeys import app_keyring
from kindpakket.auth import require_role
from kindpakket.db import db
from kindpakket.i18n import current_language
from kindpakket.money import format_euro
from kindpakket.receipts import receipt_link
from kindpakket.security import failed, limiter
from merchant import auth, hours, passpay, redemptions, refunds, refusals, reports, services
from merchant.models import Shop
from merchant.schemas import (
    HoursIn,
    HoursOut,
    LinesOut,
    PaymentOut,
    PeriodIn,
    RedemptionIn,
    RefundIn,
    RefundOut,
)

blp = Blueprint("merchant_api", __name__, url_prefix="/api/v1/merchant", description="merchant API")
ERRORS = "error: {error: {code, message}}"
# Typed 8-digit codes can be guessed, so wrong ones are limited per shop (not per login:
# an owner cannot multiply the budget by creating cashiers) and per code (many shops cannot
# try one code often); scanned tokens are signed and exempt.
TYPED_CODE_LIMIT_PER_SHOP = "10 per minute; 60 per hour; 300 per day"
TYPED_CODE_LIMIT_PER_CODE = "5 per minute"
# PINs typed for printed passes: each pass blocks itself after 3 wrong PINs; this bounds
# one shop trying many passes (refused attempts only).
PASS_TRIES_PER_SHOP = "10 per minute; 60 per hour; 300 per day"  # noqa: S105 - a rate


def _shop_key() -> str:
    """Rate-limit key: the logged-in user's shop (falls back to the address)."""
    shop_id = getattr(current_user, "shop_id", None)
    return f"shop:{shop_id}" if shop_id else f"address:{request.remote_addr}"


def _code_key() -> str:
    """Rate-limit key: the typed code's digits."""
    body = request.get_json(silent=True) or {}
    code = body.get("code") if isinstance(body, dict) else None
    return "typed-code:" + "".join(ch for ch in str(code or "") if ch.isdigit())[:16]


def _scanned() -> bool:
    """Return True when the request carries a scanned token (not a typed code)."""
    body = request.get_json(silent=True) or {}
    return not (isinstance(body, dict) and body.get("code") and not body.get("token"))


def _not_a_pass() -> bool:
    """Return True unless the request pays with a printed pass (``KP2:`` token)."""
    body = request.get_json(silent=True) or {}
    return not (isinstance(body, dict) and passpay.is_pass_code(str(body.get("token") or "")))


@limiter.request_filter
def _scanned_payment() -> bool:
    """Let a payment with a scanned token skip the rate limiter altogether.

    None of this route's limits applies to it (scanned tokens are signed and single-use),
    yet flask-limiter parsed the three limit strings and ran each ``exempt_when`` on every
    payment (a tenth of its time in the profile). Typed codes and passes are limited as
    before.
    """
    return (
        request.endpoint == "merchant_api.Redemptions"
        and request.method == "POST"
        and _scanned()
        and _not_a_pass()
    )


def payment_json(payment: redemptions.Payment) -> dict[str, Any]:
    """Return the answer for a payment (also used by the pages)."""
    lang = current_language()
    return {
        "status": "paid",
        "id": payment.id,
        "receipt_number": payment.receipt_number,
        "amount_cents": payment.amount_cents,
        "amount": format_euro(payment.amount_cents, lang),
        "refunded_cents": payment.refunded_cents,
        "ledger_seq": payment.ledger_seq,
        "entry_hash": payment.entry_hash,
        "verify_url": receipt_link(payment.ledger_seq, payment.entry_hash, "shop"),
        "created_at": payment.created_at,
        "balance_cents": payment.balance_cents,
        "balance": None
        if payment.balance_cents is None
        else format_euro(payment.balance_cents, lang),
        "replayed": payment.replayed,
    }


def refund_json(made: refunds.RefundResult) -> dict[str, Any]:
    """Return the answer for a refund."""
    return {
        "status": "refunded",
        "id": made.id,
        "redemption_id": made.redemption_id,
        "receipt_number": made.receipt_number,
        "amount_cents": made.amount_cents,
        "amount": format_euro(made.amount_cents, current_language()),
        "refundable_cents": made.refundable_cents,
        "ledger_seq": made.ledger_seq,
        "entry_hash": made.entry_hash,
        "verify_url": receipt_link(made.ledger_seq, made.entry_hash, "shop"),
        "created_at": made.created_at,
        "replayed": made.replayed,
    }


def pay(data: dict[str, Any]) -> tuple[dict[str, Any], int] | tuple[Response, int]:
    """Redeem, or record the refusal and answer it (shared by the API and the pages)."""
    principal = auth.me()
    cashier = principal.row  # read only (ids, role, epoch): not merged into the session
    with db.refusing() as refused:
        payment = redemptions.redeem(
            db.session,
            cashier=cashier,
            token=data.get("token"),
            code=data.get("code"),
            amount_cents=data["amount_cents"],
            idempotency_key=data["idempotency_key"],
            keyring=app_keyring(),
            skew=int(current_app.config["TOKEN_CLOCK_SKEW_SECONDS"]),
            pin=data.get("pin"),
            commit=True,  # the payment is this unit of work's last write
        )
    if err := refused.error:
        if isinstance(err, auth.LoginEnded):
            raise err
        db.start_over()  # undo the attempt, but keep the refusal recorded below
        if not principal.confirmed:  # a refusal is recorded only for a login that holds
            auth.confirm(db.session, cashier)
        passpay.after_refusal(
            db.session, data.get("token"), err, app_keyring(), actor=f"shop_user:{cashier.id}"
        )
        refusals.record_refusal(db.session, cashier, err, amount_cents=data.get("amount_cents"))
        return jsonify(err.to_dict()), err.status
    db.commit_now()  # the chain lock is held to the commit: release it before the answer
    return payment_json(payment), (200 if payment.replayed else 201)


# A payment confirms its cashier's login in its own locked query (merchant.redemptions), a
# refusal or a replay by reading the row: the request need not read it first.
auth.confirmed_in_unit_of_work("merchant_api.Redemptions", "POST")


@blp.route("/redemptions")
class Redemptions(MethodView):
    """Payments of the logged-in shop."""

    @require_role(*auth.ROLES)
    @limiter.limit(
        TYPED_CODE_LIMIT_PER_SHOP, key_func=_shop_key, exempt_when=_scanned, deduct_when=failed
    )
    @limiter.limit(
        TYPED_CODE_LIMIT_PER_CODE, key_func=_code_key, exempt_when=_scanned, deduct_when=failed
    )
    @limiter.limit(
        PASS_TRIES_PER_SHOP,
        key_func=lambda: "pass-" + _shop_key(),
        exempt_when=_not_a_pass,
        deduct_when=failed,
    )
    @blp.arguments(RedemptionIn())
    @blp.response(201, PaymentOut)
    @blp.alt_response(200, schema=PaymentOut, description="the first result of this key")
    @blp.alt_response(400, description=ERRORS)
    @blp.alt_response(403, description=ERRORS)
    @blp.alt_response(404, description=ERRORS)
    @blp.alt_response(409, description=ERRORS)
    def post(self, data: dict[str, Any]) -> Any:
        """Take a payment: token or typed code, amount in cents, idempotency key."""
        return pay(data)

    @require_role(*auth.ROLES)
    @blp.arguments(PeriodIn(), location="query")
    @blp.response(200, LinesOut)
    def get(self, period: dict[str, Any]) -> dict[str, Any]:
        """List the shop's payments and refunds in a period, with totals."""
        shop_id = auth.me().shop_id
        start, end = period.get("start"), period.get("end")
        sums = reports.totals(db.session, shop_id, start, end)
        return {
            "lines": reports.lines(db.session, shop_id, start, end),
            "paid_cents": sums.paid_cents,
            "refunded_cents": sums.refunded_cents,
            "net_cents": sums.net_cents,
            "paid_out_cents": sums.paid_out_cents,
            "owed_cents": sums.owed_cents,
        }


@blp.route("/redemptions/<int:redemption_id>/refunds")
class Refunds(MethodView):
    """Refunds of one payment."""

    @require_role(*auth.ROLES)
    @blp.arguments(RefundIn())
    @blp.response(201, RefundOut)
    @blp.alt_response(200, schema=RefundOut, description="the first result of this key")
    @blp.alt_response(404, description=ERRORS)
    @blp.alt_response(409, description=ERRORS)
    def post(self, data: dict[str, Any], redemption_id: int) -> Any:
        """Refund (part of) a payment of this shop to the family's budget."""
        made = refunds.refund(
            db.session,
            cashier=auth.current_shop_user(db.session),
            redemption_id=redemption_id,
            amount_cents=data["amount_cents"],
            reason=data["reason"],
            idempotency_key=data.get("idempotency_key"),
        )
        db.commit_now()  # release the chain lock before the answer is composed
        return refund_json(made), (200 if made.replayed else 201)


def hours_json(week: hours.Week) -> dict[str, Any]:
    """Return a week as the API shows it: every weekday, "HH:MM" times, the note."""
    days = {
        hours.DAYS[d]: [{"opens": hours.hhmm(p.opens), "closes": hours.hhmm(p.closes)} for p in ps]
        for d, ps in enumerate(week.days)
    }
    return {"given": week.given, **days, "note": week.note}


@blp.route("/hours")
class OpeningHours(MethodView):
    """The logged-in shop's opening hours (shown on the public list of shops)."""

    @require_role(*auth.ROLES)
    @blp.response(200, HoursOut)
    def get(self) -> dict[str, Any]:
        """Read the shop's opening hours."""
        shop = db.session.get(Shop, auth.me().shop_id)
        assert shop is not None  # the login's shop
        return hours_json(services.week_of(db.session, shop))

    @require_role(*auth.ROLES)
    @blp.arguments(HoursIn())
    @blp.response(200, HoursOut)
    @blp.alt_response(403, description=ERRORS)
    def put(self, data: dict[str, Any]) -> dict[str, Any]:
        """Replace the shop's opening hours (owner only); every problem is named per day."""
        owner = auth.current_shop_user(db.session)
        services.require_owner(owner)  # a cashier learns nothing from the checks below
        texts = {
            d: [(p["opens"], p["closes"]) for p in data[day]] for d, day in enumerate(hours.DAYS)
        }
        week = hours.parse_week(texts, data["note"])
        services.change_hours(db.session, owner, week)
        return hours_json(week)
