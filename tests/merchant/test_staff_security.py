"""Shop logins: lockout, sessions that end, typed-code limits per shop, one answer for codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger import store
from merchant.models import Redemption, Refusal, ShopUser
from tests import factories as fx
from tests.merchant.conftest import World, key, login, pay, token_for
from wallet.models import PaymentCode

NEW_PASSWORD = "groene kikker springt hoog"


def post_login(client: Any, email: str, password: str = fx.PASSWORD) -> Any:
    return client.post("/merchant/login", data={"email": email, "password": password})


def test_wrong_passwords_lock_a_shop_login(client: Any, session: Session, world: World) -> None:
    email = world.cashier.email
    answers = [post_login(client, email, "wrong password!").status_code for _ in range(5)]
    assert answers == [401, 401, 401, 401, 429]
    locked = post_login(client, email)
    assert locked.status_code == 429 and "geblokkeerd" in locked.get_data(as_text=True)
    assert post_login(client, world.owner.email).status_code == 302  # other logins go on


def test_a_copied_cookie_stops_working_after_logout(client: Any, world: World) -> None:
    login(client, world.cashier.email)
    copied = client.get_cookie("session")
    assert client.get("/merchant/scan").status_code == 200
    assert client.post("/merchant/logout").status_code == 302
    client.set_cookie("session", copied.value)
    assert client.get("/merchant/scan").status_code == 302
    assert pay(client, code="12345678", amount_cents=100).status_code == 401


def test_password_change_ends_other_sessions(app: Any, client: Any, world: World) -> None:
    other = app.test_client()
    login(client, world.owner.email)
    login(other, world.owner.email)
    weak = client.post(
        "/merchant/password",
        data={"current": fx.PASSWORD, "new": "password1234", "again": "password1234"},
    )
    assert weak.status_code == 400 and "veelgebruikte wachtwoorden" in weak.get_data(as_text=True)
    wrong = client.post(
        "/merchant/password",
        data={"current": "not my password", "new": NEW_PASSWORD, "again": NEW_PASSWORD},
    )
    assert wrong.status_code == 400
    changed = client.post(
        "/merchant/password",
        data={"current": fx.PASSWORD, "new": NEW_PASSWORD, "again": NEW_PASSWORD},
    )
    assert changed.status_code == 302
    assert client.get("/merchant/").status_code == 200
    assert other.get("/merchant/").status_code == 302
    assert post_login(other, world.owner.email).status_code == 401
    assert post_login(other, world.owner.email, NEW_PASSWORD).status_code == 302


def test_blocking_a_cashier_ends_the_login_for_good(
    app: Any, client: Any, session: Session, world: World
) -> None:
    owner = app.test_client()
    login(owner, world.owner.email)
    login(client, world.cashier.email)
    url = f"/merchant/staff/{world.cashier.id}"
    assert owner.post(f"{url}/deactivate").status_code == 302
    assert client.get("/merchant/scan").status_code == 302
    assert owner.post(f"{url}/activate").status_code == 302
    assert client.get("/merchant/scan").status_code == 302  # switched on again: log in again
    session.expire_all()
    assert session.get(ShopUser, world.cashier.id).session_epoch == 1  # type: ignore[union-attr]


def test_a_payment_checks_the_cashiers_login_itself(
    app: Any, client: Any, session: Session, world: World
) -> None:
    """A scanned payment takes its cashier from the rows the process read recently and
    confirms the login in its own query: a login ended meanwhile pays, refuses and replays
    nothing, wherever it was ended (here straight in the database, as another worker would).
    """
    login(client, world.cashier.email)
    k = key()
    first = pay(
        client,
        token=token_for(session, world.keyring, world.vouchers[0]).token,
        amount_cents=500,
        idempotency_key=k,
    )
    assert first.status_code == 201
    account = f"voucher:{world.vouchers[0].id}"
    balance = store.balance(session, account)

    def counts() -> tuple[int, int, int]:
        session.expire_all()
        redemptions = session.scalar(select(func.count()).select_from(Redemption))
        refusals = session.scalar(select(func.count()).select_from(Refusal))
        return int(redemptions or 0), int(refusals or 0), store.balance(session, account)

    cashier = session.get(ShopUser, world.cashier.id)
    assert cashier is not None
    for end in ("blocked", "logged out elsewhere"):
        if end == "blocked":
            cashier.active = False
        else:
            cashier.active, cashier.session_epoch = True, cashier.session_epoch + 1
        session.commit()
        fresh = token_for(session, world.keyring, world.vouchers[0]).token
        attempts = [
            pay(client, token=fresh, amount_cents=700),  # a payment
            pay(client, token="KP1.not-a-token", amount_cents=700),  # a refusal
            pay(client, token=fresh, amount_cents=500, idempotency_key=k),  # a replay
        ]
        for answer in attempts:
            assert answer.status_code == 401, (end, answer.get_json())
            assert answer.get_json()["error"]["code"] == "login_required"
        assert counts() == (1, 0, balance), end
        cashier.active = True
        session.commit()
    login(client, world.cashier.email)  # a new login pays again
    again = pay(
        client, token=token_for(session, world.keyring, world.vouchers[0]).token, amount_cents=700
    )
    assert again.status_code == 201
    assert counts() == (2, 0, balance - 700)


def test_weak_cashier_password_is_refused(client: Any, world: World) -> None:
    login(client, world.owner.email)
    made = client.post(
        "/merchant/staff",
        data={"name": "Piet", "email": "piet@spaak.example", "password": "aaaaaaaaaaaa"},
    )
    assert made.status_code == 400 and "te makkelijk te raden" in made.get_data(as_text=True)


def test_typed_code_guesses_share_one_budget_per_shop(
    app: Any, client: Any, session: Session, world: World
) -> None:
    owner = app.test_client()
    other_shop = app.test_client()
    login(client, world.cashier.email)
    login(owner, world.owner.email)
    login(other_shop, world.other_owner.email)
    answers = [
        pay(client if i % 2 else owner, code=f"2000000{i}", amount_cents=100).status_code
        for i in range(10)
    ]
    assert answers == [404] * 10
    assert pay(client, code="30000001", amount_cents=100).status_code == 429
    assert pay(owner, code="30000002", amount_cents=100).status_code == 429  # a new login: no
    assert pay(other_shop, code="30000003", amount_cents=100).status_code == 404  # other shop
    qr = token_for(session, world.keyring, world.vouchers[0])
    assert pay(client, token=qr.token, amount_cents=100).status_code == 201  # scans go on


def test_one_typed_code_is_limited_across_shops(app: Any, client: Any, world: World) -> None:
    other_shop = app.test_client()
    login(client, world.cashier.email)
    login(other_shop, world.other_owner.email)
    answers = [pay(c, code="40000000", amount_cents=100).status_code for c in [client] * 3]
    answers += [pay(other_shop, code="40000000", amount_cents=100).status_code for _ in range(2)]
    assert answers == [404] * 5
    assert pay(client, code="40000000", amount_cents=100).status_code == 429
    assert pay(client, code="40000001", amount_cents=100).status_code == 404


def test_unknown_used_and_expired_typed_codes_get_one_answer(
    client: Any, session: Session, world: World
) -> None:
    login(client, world.cashier.email)
    used = token_for(session, world.keyring, world.vouchers[0])
    assert pay(client, token=used.token, amount_cents=100).status_code == 201
    expired = token_for(session, world.keyring, world.vouchers[1])
    row = session.execute(
        select(PaymentCode).where(PaymentCode.code == expired.payment_code)
    ).scalar_one()
    row.expires_at = datetime.now(UTC) - timedelta(minutes=10)
    session.commit()
    known = {used.payment_code, expired.payment_code}
    unknown = next(c for c in ("99999991", "99999992", "99999993") if c not in known)
    answers = [
        pay(client, code=code, amount_cents=100)
        for code in (unknown, used.payment_code, expired.payment_code)
    ]
    bodies = [(a.status_code, a.get_json()) for a in answers]
    assert bodies[0] == bodies[1] == bodies[2]
    assert bodies[0][0] == 404 and bodies[0][1]["error"]["code"] == "payment_code_invalid"
    # The scanned, signed token may say exactly what is wrong: it proves it was real.
    again = pay(client, token=used.token, amount_cents=100)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "token_used"
