"""Family devices: a logged-out device's cookies are worthless; cookie flags from one setting."""

from __future__ import annotations

from typing import Any

from kindpakket import create_app
from tests.wallet.conftest import CODE, World, activate


def test_copied_cookies_stop_working_after_logout(app: Any, client: Any, world: World) -> None:
    assert activate(client).status_code == 302
    copied = {name: client.get_cookie(name) for name in ("session", "remember_token")}
    assert all(copied.values())
    thief = app.test_client()
    for name, cookie in copied.items():
        thief.set_cookie(name, cookie.value)
    assert thief.get("/wallet/").status_code == 200  # a copy works while the device is in
    assert client.post("/wallet/logout").status_code == 302
    assert thief.get("/wallet/").status_code == 302  # to the login page
    only_remember = app.test_client()
    only_remember.set_cookie("remember_token", copied["remember_token"].value)
    assert only_remember.get("/wallet/").status_code == 302


def test_remember_cookie_is_secure_lax_and_http_only(
    app_config: dict[str, Any], world: World
) -> None:
    app = create_app({**app_config, "SESSION_COOKIE_SECURE": True})
    try:
        client = app.test_client()
        response = activate(client)
        assert response.status_code == 302
        cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
        for name in ("session", "remember_token"):
            flags = cookies[name].lower()
            assert "; secure" in flags and "; httponly" in flags and "samesite=lax" in flags
    finally:
        app.extensions["kindpakket_db"][0].dispose()


def test_cookies_are_not_secure_when_the_setting_is_off(client: Any, world: World) -> None:
    response = client.post("/wallet/login", data={"code": CODE, "pin": "00000"})
    assert response.status_code in (401, 409)
    activated = activate(client)
    cookies = {c.split("=", 1)[0]: c for c in activated.headers.getlist("Set-Cookie")}
    assert "secure" not in cookies["remember_token"].lower()
    assert "samesite=lax" in cookies["remember_token"].lower()
