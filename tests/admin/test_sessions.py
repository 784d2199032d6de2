"""Municipality staff: lockout, sessions that end, single-use TOTP codes, strong passwords."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from argon2 import PasswordHasher
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from admin.auth import AdminPrincipal
from admin.models import AdminUser
from kindpakket import logins
from kindpakket.errors import DomainError
from kindpakket.logins import LockoutPolicy
from kindpakket.passwords import needs_rehash
from tests import factories as f

EMAIL = "beheer@voorbeeld.example"


def seed(engine: Engine, totp: str | None = None) -> None:
    with Session(engine) as s:
        f.admin_user(s, f.municipality(s), totp_secret=totp)
        s.commit()


def login(client: FlaskClient, password: str = f.PASSWORD, totp: str = ""):  # type: ignore[no-untyped-def]
    return client.post("/admin/login", data={"email": EMAIL, "password": password, "totp": totp})


def staff(engine: Engine) -> AdminUser:
    with Session(engine) as s:
        return s.execute(select(AdminUser).where(AdminUser.email == EMAIL)).scalar_one()


def test_wrong_passwords_lock_the_account_even_for_the_right_one(
    engine: Engine, client: FlaskClient
) -> None:
    seed(engine)
    answers = [login(client, password="wrong password!") for _ in range(5)]
    assert [a.status_code for a in answers] == [401, 401, 401, 401, 429]
    assert "geblokkeerd" in answers[-1].get_data(as_text=True)
    right = login(client)  # the right password does not help while the lockout lasts
    assert right.status_code == 429
    assert client.get("/admin/").status_code == 302  # still not logged in
    assert staff(engine).locked_until is not None


def test_lockout_grows_while_failures_go_on_and_ends_with_a_good_login(engine: Engine) -> None:
    seed(engine)
    rules = LockoutPolicy(max_attempts=2, lockout_seconds=60)
    now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    with Session(engine) as s:

        def attempt(password: str, at: datetime) -> str:
            try:
                logins.authenticate(s, AdminPrincipal, EMAIL, password, None, policy=rules, now=at)
            except DomainError as err:
                return err.code
            return "ok"

        assert attempt("wrong password!", now) == "bad_credentials"
        assert attempt("wrong password!", now) == "account_locked"
        first = s.execute(select(AdminUser)).scalar_one().locked_until
        assert first == now + timedelta(seconds=60)
        later = now + timedelta(seconds=61)
        assert attempt("wrong password!", later) == "bad_credentials"
        assert attempt("wrong password!", later) == "account_locked"
        second = s.execute(select(AdminUser)).scalar_one().locked_until
        assert second == later + timedelta(seconds=120)  # twice as long the second time
        assert attempt(f.PASSWORD, later + timedelta(seconds=60)) == "account_locked"
        assert attempt(f.PASSWORD, later + timedelta(seconds=121)) == "ok"
        assert s.execute(select(AdminUser)).scalar_one().failed_logins == 0


def test_a_copied_cookie_stops_working_after_logout(engine: Engine, client: FlaskClient) -> None:
    seed(engine)
    assert login(client).status_code == 302
    copied = client.get_cookie("session")
    assert copied is not None
    assert client.get("/admin/").status_code == 200
    assert client.post("/admin/logout").status_code == 302
    client.set_cookie("session", copied.value)  # someone kept the cookie from before
    assert client.get("/admin/").status_code == 302  # to the login page


def test_password_change_ends_other_sessions_and_keeps_this_one(
    engine: Engine, app, client: FlaskClient
) -> None:  # type: ignore[no-untyped-def]
    seed(engine)
    other = app.test_client()
    assert login(client).status_code == 302 and login(other).status_code == 302
    new = "paarse olifant fietst langzaam"
    weak = client.post(
        "/admin/password",
        data={"current": f.PASSWORD, "new": "aaaaaaaaaaaa", "again": "aaaaaaaaaaaa"},
    )
    assert weak.status_code == 400 and "te makkelijk te raden" in weak.get_data(as_text=True)
    changed = client.post("/admin/password", data={"current": f.PASSWORD, "new": new, "again": new})
    assert changed.status_code == 302
    assert client.get("/admin/").status_code == 200  # this browser goes on
    assert other.get("/admin/").status_code == 302  # the other login has ended
    assert login(other).status_code == 401  # the old password is gone
    assert login(other, password=new).status_code == 302


def test_a_totp_code_works_only_once(engine: Engine, app) -> None:  # type: ignore[no-untyped-def]
    secret = pyotp.random_base32()
    seed(engine, totp=secret)
    code = pyotp.TOTP(secret).now()
    first, second = app.test_client(), app.test_client()
    assert login(first, totp=code).status_code == 302
    replay = login(second, totp=code)
    assert replay.status_code == 401 and "al gebruikt" in replay.get_data(as_text=True)
    assert second.get("/admin/").status_code == 302


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("aaaaaaaaaaaa", "te makkelijk te raden"),
        ("password1234", "lijsten met veelgebruikte wachtwoorden"),
        ("Welkom012345", "lijsten met veelgebruikte wachtwoorden"),
        ("beheerder@wk.example", "uw naam of e-mailadres"),
        ("gemeentebeheerder", "uw naam of e-mailadres"),
        ("short", "minstens 12 tekens"),
    ],
)
def test_weak_passwords_are_refused_when_staff_are_created(cli, password: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    made = cli("admin", "create-municipality", "--slug", "wk", "--name", "Gemeente WK")
    assert made.exit_code == 0, made.output
    weak = cli(
        "admin",
        "create-user",
        "--municipality",
        "wk",
        "--email",
        "beheerder@wk.example",
        "--name",
        "Beheerder Gemeente",
        "--role",
        "viewer",
        input=f"{password}\n{password}\n",
    )
    assert weak.exit_code == 2 and "weak_password" in weak.output
    assert reason in weak.output


def test_cli_reset_switches_an_account_off_and_ends_its_logins(
    engine: Engine, client: FlaskClient, cli
) -> None:  # type: ignore[no-untyped-def]
    seed(engine)
    assert login(client).status_code == 302
    off = cli("admin", "reset-user", "--email", EMAIL, "--inactive")
    assert off.exit_code == 0, off.output
    assert client.get("/admin/").status_code == 302
    off_again = login(client)
    assert off_again.status_code == 401 and "uitgezet" in off_again.get_data(as_text=True)
    weak = cli("admin", "reset-user", "--email", EMAIL, "--password", input="aaaaaaaaaaaa\n" * 2)
    assert weak.exit_code == 2 and "weak_password" in weak.output
    new = "paarse olifant fietst langzaam"
    on = cli(
        "admin", "reset-user", "--email", EMAIL, "--active", "--password", input=f"{new}\n" * 2
    )
    assert on.exit_code == 0, on.output
    assert login(client).status_code == 401
    assert login(client, password=new).status_code == 302


def test_a_password_hashed_with_older_parameters_is_rehashed_at_login(
    engine: Engine, client: FlaskClient
) -> None:
    seed(engine)
    older = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)  # not today's
    with Session(engine) as s:
        s.execute(select(AdminUser)).scalar_one().password_hash = older.hash(f.PASSWORD)
        s.commit()
    assert login(client, password="wrong password!").status_code == 401
    assert staff(engine).password_hash.startswith("$argon2id$v=19$m=2048,t=2")  # not yet
    assert login(client).status_code == 302
    rehashed = staff(engine).password_hash
    assert not rehashed.startswith("$argon2id$v=19$m=2048,t=2") and not needs_rehash(rehashed)
    assert client.post("/admin/logout").status_code == 302
    assert login(client).status_code == 302  # the new hash holds the same password
