"""JSON API of the wallet package under /api/v1/wallet (used by the wallet pages)."""

from __future__ import annotations

import time
from typing import Any

from flask.views import MethodView
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Blueprint

from kindpakket.appkeys import app_keyring
from kindpakket.auth import require_role
from kindpakket.db import db
from kindpakket.i18n import current_language
from kindpakket.money import format_euro
from kindpakket.security import limiter, login_limits
from wallet import auth, services
from wallet.parties import family_receipt_link
from wallet.schemas import (
    DeviceListSchema,
    HistorySchema,
    PaymentTokenSchema,
    PinSchema,
    VoucherListSchema,
    VoucherSchema,
)

blp = Blueprint("wallet_api", __name__, url_prefix="/api/v1/wallet", description="wallet API")
ERRORS = {"description": "error: {error: {code, message}}"}


def _view(voucher: Any) -> dict[str, Any]:
    view = services.voucher_view(db.session, voucher)
    view["balance"] = format_euro(view["balance_cents"], current_language())
    return view


def payment_json(payment: services.PaymentQR, child_first_name: str) -> dict[str, Any]:
    """Return the JSON of a payment code (also used to fill the pay page)."""
    return {
        "token": payment.token,
        "voucher_id": payment.voucher_id,
        "kid": payment.kid,
        "expires_at": payment.expires_at,
        "expires_in": max(0, payment.expires_at - int(time.time())),
        "ttl": payment.ttl,
        "payment_code": payment.payment_code,
        "payment_code_display": payment.payment_code_display,
        "qr_svg": payment.qr_data_uri,
        "qr_alt": _(
            "QR code to pay from the budget of %(name)s. Payment code: %(code)s.",
            name=child_first_name,
            code=payment.payment_code_display,
        ),
    }


@blp.route("/vouchers")
class Vouchers(MethodView):
    """The household's budgets."""

    @require_role(auth.ROLE)
    @blp.response(200, VoucherListSchema)
    @blp.alt_response(401, description=ERRORS["description"])
    def get(self) -> dict[str, Any]:
        """List each child's remaining budget and fund period."""
        household = auth.household()
        return {"vouchers": [_view(v) for v in services.household_vouchers(db.session, household)]}


@blp.route("/vouchers/<int:voucher_id>")
class VoucherOne(MethodView):
    """One child's budget."""

    @require_role(auth.ROLE)
    @blp.response(200, VoucherSchema)
    @blp.alt_response(404, description=ERRORS["description"])
    def get(self, voucher_id: int) -> dict[str, Any]:
        """Show one child's remaining budget (404 for budgets of other households)."""
        return _view(services.household_voucher(db.session, auth.household(), voucher_id))


@blp.route("/vouchers/<int:voucher_id>/token", methods=["POST"])
@require_role(auth.ROLE)
@limiter.limit("30 per minute")
@blp.response(201, PaymentTokenSchema)
@blp.alt_response(404, description=ERRORS["description"])
@blp.alt_response(409, description="voucher_blocked")
def token(voucher_id: int) -> dict[str, Any]:
    """Make a fresh signed payment QR code and numeric code (single use, short-lived)."""
    voucher = services.household_voucher(db.session, auth.household(), voucher_id)
    payment = services.issue_payment(
        db.session, voucher, keyring=app_keyring(), ttl=auth.token_ttl()
    )
    return payment_json(payment, voucher.child.first_name)


@blp.route("/vouchers/<int:voucher_id>/block", methods=["POST"])
@require_role(auth.ROLE)
@blp.response(200, VoucherSchema)
def block(voucher_id: int) -> dict[str, Any]:
    """Block a child's budget: no new codes, shops refuse payments."""
    household = auth.household()
    voucher = services.household_voucher(db.session, household, voucher_id)
    services.block_voucher(db.session, household, voucher, actor=auth.me().actor)
    return _view(voucher)


@blp.route("/vouchers/<int:voucher_id>/unblock", methods=["POST"])
@require_role(auth.ROLE)
@login_limits("household", lambda: str(getattr(current_user, "household_id", "") or ""))
@blp.arguments(PinSchema())
@blp.response(200, VoucherSchema)
@blp.alt_response(401, description="pin_wrong")
@blp.alt_response(429, description="pin_locked")
def unblock(body: dict[str, str], voucher_id: int) -> Any:
    """Unblock a child's budget with the PIN (wrong PINs count towards the lockout)."""
    household = auth.household()
    voucher = services.household_voucher(db.session, household, voucher_id)
    services.unblock_voucher(  # a wrong PIN's error keeps its work: the PIN is counted
        db.session,
        household,
        voucher,
        body["pin"],
        actor=auth.me().actor,
        policy=auth.pin_policy(),
    )
    return _view(voucher)


@blp.route("/history")
@require_role(auth.ROLE)
@blp.response(200, HistorySchema)
def history() -> dict[str, Any]:
    """List the payments and refunds of every child, newest first."""
    return {"items": services.history(db.session, auth.household(), family_receipt_link)}


@blp.route("/sessions")
@require_role(auth.ROLE)
@blp.response(200, DeviceListSchema)
def sessions() -> dict[str, Any]:
    """List the logged-in devices."""
    current = auth.me().session_id
    rows = services.list_sessions(db.session, auth.household())
    return {
        "devices": [
            {
                "id": r.id,
                "device": r.device,
                "created_at": r.created_at,
                "last_seen_at": r.last_seen_at,
                "current": r.id == current,
            }
            for r in rows
        ]
    }


@blp.route("/sessions/<session_id>", methods=["DELETE"])
@require_role(auth.ROLE)
@blp.response(204)
def revoke(session_id: str) -> None:
    """Log a device out (e.g. a lost phone); it must log in again with code and PIN."""
    services.revoke_session(db.session, auth.household(), session_id, actor=auth.me().actor)
