"""Municipality staff login: password, TOTP, roles and the tenant guard."""

from __future__ import annotations

import pyotp
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests import factories as f


def seed(engine: Engine, totp: str | None = None) -> None:
    with Session(engine) as s:
        m = f.municipality(s)
        f.admin_user(s, m, totp_secret=totp)
        other = f.municipality(s, slug="elders", name="Gemeente Elders")
        f.fund(s, other, name="Fonds Elders")
        s.commit()


def login(client, email="beheer@voorbeeld.example", password=f.PASSWORD, totp=""):  # type: ignore[no-untyped-def]
    return client.post("/admin/login", data={"email": email, "password": password, "totp": totp})


def test_login_with_password_opens_the_admin_pages(engine: Engine, client) -> None:  # type: ignore[no-untyped-def]
    seed(engine)
    assert client.get("/admin/").status_code == 302  # to the login page
    wrong = login(client, password="wrong password!")
    assert wrong.status_code == 401
    assert "wachtwoord is onjuist" in wrong.get_data(as_text=True)
    ok = login(client)
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/admin/")
    page = client.get("/admin/").get_data(as_text=True)
    assert "Fonds Elders" not in page  # another municipality's fund stays invisible


def test_totp_is_required_when_switched_on(engine: Engine, client) -> None:  # type: ignore[no-untyped-def]
    secret = pyotp.random_base32()
    seed(engine, totp=secret)
    assert login(client).status_code == 401
    assert login(client, totp="000000").status_code == 401
    assert login(client, totp=pyotp.TOTP(secret).now()).status_code == 302


def test_login_is_rate_limited(engine: Engine, client) -> None:  # type: ignore[no-untyped-def]
    seed(engine)
    emails = [f"guess{i}@voorbeeld.example" for i in range(11)]  # no account lockout involved
    codes = [login(client, email=e, password="wrong password!").status_code for e in emails]
    assert codes[:10] == [401] * 10
    assert codes[10] == 429


def test_cli_creates_municipality_and_user(cli) -> None:  # type: ignore[no-untyped-def]
    made = cli(
        "admin",
        "create-municipality",
        "--slug",
        "wk",
        "--name",
        "Gemeente WK",
        "--iban",
        "NL91 ABNA 0417 1643 00",
    )
    assert made.exit_code == 0, made.output
    bad = cli("admin", "create-municipality", "--slug", "x", "--name", "X", "--iban", "NL00BANK1")
    assert bad.exit_code != 0 and "IBAN" in bad.output
    user = cli(
        "admin",
        "create-user",
        "--municipality",
        "wk",
        "--email",
        "a@wk.example",
        "--name",
        "A",
        "--role",
        "finance",
        input="long enough password\nlong enough password\n",
    )
    assert user.exit_code == 0, user.output
    weak = cli(
        "admin",
        "create-user",
        "--municipality",
        "wk",
        "--email",
        "b@wk.example",
        "--name",
        "B",
        "--role",
        "viewer",
        input="short\nshort\n",
    )
    assert weak.exit_code == 2 and "weak_password" in weak.output
