"""Payment tokens through the services: round trip, every refusal code, rotation, skew."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask_babel import force_locale
from nacl.signing import SigningKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from kindpakket.errors import DomainError
from kindpakket.keys import Keyring
from merchant.models import Redemption
from tests import factories
from tests.wallet.conftest import NOW, World, at
from wallet import services, tokens
from wallet.models import PaymentCode
from wallet.payments import PAYMENT_CODE_DIGITS, TOKEN_MESSAGES, qr_svg

SKEW = 5


def refusal(call) -> str:  # type: ignore[no-untyped-def]
    """Return the DomainError code raised by call()."""
    with pytest.raises(DomainError) as caught:
        call()
    assert str(caught.value.message)  # every refusal has words for people
    return caught.value.code


def verify(session: Session, text: str, ring: Keyring, now: int = NOW):  # type: ignore[no-untyped-def]
    return services.verify_payment_token(session, text, now=now, keyring=ring, skew=SKEW)


def redeem(session: Session, world: World, nonce: str) -> None:
    """Record a payment holding ``nonce``, as the merchant's redemption does."""
    shop, owner, _ = factories.shop(session, world.fund)
    session.add(
        Redemption(
            shop_id=shop.id,
            fund_id=world.fund.id,
            voucher_id=world.vouchers[0].id,
            cashier_id=owner.id,
            amount_cents=500,
            refunded_cents=0,
            nonce=nonce,
            idempotency_key="k1",
            receipt_number="R-1",
            ledger_seq=999_999,
            entry_hash="0" * 64,
            created_at=datetime.now(UTC),
        )
    )
    session.flush()


def test_round_trip_with_payment_code(session: Session, world: World, ring: Keyring) -> None:
    voucher = world.vouchers[0]
    shown = services.issue_payment(session, voucher, keyring=ring, ttl=120, now=NOW)
    assert shown.token.startswith("KP1:") and shown.expires_at == NOW + 120
    assert set(shown.token) <= tokens.QR_ALPHANUMERIC
    assert shown.qr_svg.startswith("<?xml") or "<svg" in shown.qr_svg
    assert shown.qr_data_uri.startswith("data:image/svg+xml;base64,")
    payload, found = verify(session, shown.token, ring)
    assert found.id == voucher.id and payload.voucher_id == voucher.id
    assert payload.kid == ring.active("token", at(NOW))[0].kid
    row = session.execute(select(PaymentCode).where(PaymentCode.code == shown.payment_code)).one()[
        0
    ]
    assert row.nonce == payload.nonce_hex and len(shown.payment_code) == PAYMENT_CODE_DIGITS
    nonce, by_code = services.resolve_payment_code(
        session, shown.payment_code_display, now=NOW + 60
    )
    assert nonce == payload.nonce_hex and by_code.id == voucher.id


def test_the_qr_is_drawn_once_per_token(session: Session, world: World, ring: Keyring) -> None:
    first = services.issue_payment(session, world.vouchers[0], keyring=ring, now=NOW)
    second = services.issue_payment(session, world.vouchers[0], keyring=ring, now=NOW)
    assert first.token != second.token and first.payment_code != second.payment_code
    assert qr_svg(first.token) is first.qr_svg  # cached per token


def test_each_refusal_has_its_own_code(session: Session, world: World, ring: Keyring) -> None:
    shown = services.issue_payment(session, world.vouchers[0], keyring=ring, now=NOW)
    body = shown.token[4:]
    flipped = body[:60] + ("A" if body[60] != "A" else "B") + body[61:]
    assert refusal(lambda: verify(session, "hello", ring)) == "not_a_token"
    assert refusal(lambda: verify(session, shown.token + "A", ring)) == "not_a_token"
    assert refusal(lambda: verify(session, "KP1:" + flipped, ring)) == "bad_signature"
    kid = ring.active("token", at(NOW))[0].kid
    forged = tokens.issue_token(world.vouchers[1].id, (kid, SigningKey.generate()), NOW)
    assert refusal(lambda: verify(session, forged.text, ring)) == "bad_signature"
    stranger = tokens.issue_token(world.vouchers[0].id, ("0badc0de", SigningKey.generate()), NOW)
    assert refusal(lambda: verify(session, stranger.text, ring)) == "unknown_key"
    assert refusal(lambda: verify(session, shown.token, ring, NOW + 120 + SKEW + 1)) == (
        "token_expired"
    )
    _, signing = ring.signing_key("token", at(NOW))
    ahead = tokens.issue_token(world.vouchers[0].id, (kid, signing), NOW + 1000)
    assert refusal(lambda: verify(session, ahead.text, ring)) == "token_not_yet_valid"
    ghost = tokens.issue_token(987_654, (kid, signing), NOW)
    assert refusal(lambda: verify(session, ghost.text, ring)) == "voucher_not_found"


def test_a_used_nonce_is_refused_for_token_and_payment_code(
    session: Session, world: World, ring: Keyring
) -> None:
    shown = services.issue_payment(session, world.vouchers[0], keyring=ring, now=NOW)
    payload, _ = verify(session, shown.token, ring)
    redeem(session, world, payload.nonce_hex)
    assert refusal(lambda: verify(session, shown.token, ring)) == "token_used"
    assert (
        refusal(lambda: services.resolve_payment_code(session, shown.payment_code, now=NOW))
        == "token_used"
    )


def test_payment_code_refusals(session: Session, world: World, ring: Keyring) -> None:
    shown = services.issue_payment(session, world.vouchers[0], keyring=ring, ttl=120, now=NOW)
    assert refusal(lambda: services.resolve_payment_code(session, "1234", now=NOW)) == (
        "payment_code_unknown"
    )
    wrong = f"{(int(shown.payment_code) + 1) % 10**PAYMENT_CODE_DIGITS:08d}"
    assert refusal(lambda: services.resolve_payment_code(session, wrong, now=NOW)) == (
        "payment_code_unknown"
    )
    edge = NOW + 120 + SKEW
    assert services.resolve_payment_code(session, shown.payment_code, now=edge)[1].id
    assert (
        refusal(lambda: services.resolve_payment_code(session, shown.payment_code, now=edge + 1))
        == "token_expired"
    )


def test_clock_skew_at_the_edges_of_validity(session: Session, world: World, ring: Keyring) -> None:
    shown = services.issue_payment(session, world.vouchers[0], keyring=ring, ttl=120, now=NOW)
    assert verify(session, shown.token, ring, NOW + 120 + SKEW)[1].id  # last accepted second
    assert refusal(lambda: verify(session, shown.token, ring, NOW + 121 + SKEW)) == "token_expired"
    # A wallet whose clock runs ahead: accepted up to the skew, refused just beyond it.
    kid = ring.active("token", at(NOW))[0].kid
    _, signing = ring.signing_key("token", at(NOW))
    ahead = tokens.issue_token(world.vouchers[0].id, (kid, signing), NOW + SKEW, ttl=tokens.MAX_TTL)
    assert verify(session, ahead.text, ring, NOW)[1].id
    too_far = tokens.issue_token(
        world.vouchers[0].id, (kid, signing), NOW + SKEW + 1, ttl=tokens.MAX_TTL
    )
    assert refusal(lambda: verify(session, too_far.text, ring)) == "token_not_yet_valid"


def test_tokens_of_a_rotated_key_keep_working_during_the_overlap(
    session: Session, world: World, ring: Keyring
) -> None:
    old = services.issue_payment(session, world.vouchers[0], keyring=ring, now=NOW)
    new_key = ring.rotate("token", overlap_seconds=600, now=at(NOW + 10))
    new = services.issue_payment(session, world.vouchers[0], keyring=ring, now=NOW + 20)
    assert new.kid == new_key.kid != old.kid
    assert verify(session, old.token, ring, NOW + 30)[1].id  # older, still valid key
    assert verify(session, new.token, ring, NOW + 30)[1].id
    # Once the old key's overlap has passed, its tokens name an unknown key.
    assert refusal(lambda: verify(session, old.token, ring, NOW + 10 + 600)) == "unknown_key"


def test_a_blocked_voucher_gets_no_codes(session: Session, world: World, ring: Keyring) -> None:
    voucher = world.vouchers[0]
    services.block_voucher(session, world.household, voucher, actor="household:1")
    assert (
        refusal(lambda: services.issue_payment(session, voucher, keyring=ring, now=NOW))
        == "voucher_blocked"
    )


def test_every_token_error_code_has_dutch_and_english_messages(app) -> None:  # type: ignore[no-untyped-def]
    assert set(TOKEN_MESSAGES) >= tokens.ERROR_CODES
    with app.app_context():
        for code in tokens.ERROR_CODES:
            with force_locale("en"):
                english = str(TOKEN_MESSAGES[code])
            with force_locale("nl"):
                dutch = str(TOKEN_MESSAGES[code])
            assert english and dutch and dutch != english, code
        with force_locale("nl"):
            assert "verlopen" in str(TOKEN_MESSAGES["token_expired"])
        with force_locale("en"):
            assert "expired" in str(TOKEN_MESSAGES["token_expired"])
