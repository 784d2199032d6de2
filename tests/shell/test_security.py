"""Security by default: headers, CSRF on forms, JSON errors for API clients."""

from __future__ import annotations

import pytest

from kindpakket import create_app


def test_pages_carry_security_headers(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/admin/login")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]


def test_headers_follow_the_view_and_the_scheme_answer_after_answer(client) -> None:  # type: ignore[no-untyped-def]
    """Headers are composed once per view and scheme: HSTS over HTTPS only, whatever came
    first, and the scanner page keeps its camera while the other pages do not."""
    for _ in range(2):
        plain = client.get("/healthz")
        secure = client.get("/healthz", base_url="https://localhost")
        proxied = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
        assert "Strict-Transport-Security" not in plain.headers
        assert secure.headers["Strict-Transport-Security"].startswith("max-age=31556926")
        assert (
            proxied.headers["Strict-Transport-Security"]
            == secure.headers["Strict-Transport-Security"]
        )
        scanner = client.get("/merchant/scan")  # not logged in: the redirect carries them too
        assert "camera=(self)" in scanner.headers["Permissions-Policy"]
        assert "media-src 'self' blob:" in scanner.headers["Content-Security-Policy"]
        assert "camera=()" in plain.headers["Permissions-Policy"]
        assert "media-src" not in plain.headers["Content-Security-Policy"]
        missing = client.get("/no-such-page")
        assert missing.status_code == 404 and missing.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "options", [{}, {"force_https": True}, {"content_security_policy_nonce_in": ["script-src"]}]
)
def test_per_request_header_options_are_refused(options: dict[str, object]) -> None:
    from flask import Flask

    from kindpakket.security import Talisman

    with pytest.raises(ValueError, match="per request"):
        Talisman().init_app(Flask(__name__), **options)
    if options:
        with pytest.raises(ValueError, match="per request"):
            Talisman()(**options)


def test_forms_refuse_posts_without_csrf_token(app_config) -> None:  # type: ignore[no-untyped-def]
    app = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    client = app.test_client()
    response = client.post("/admin/login", data={"email": "a@b.nl", "password": "x" * 12})
    assert response.status_code == 400
    assert "csrf_failed" in response.get_data(as_text=True)
    app.extensions["kindpakket_db"][0].dispose()


def test_api_errors_are_json_with_a_code(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/does-not-exist")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", ["/api/v1/openapi.json"])
def test_openapi_spec_is_served(client, path: str) -> None:  # type: ignore[no-untyped-def]
    spec = client.get(path).get_json()
    assert spec["info"]["title"] == "Kindpakket API"
    assert "/api/v1/keys" in spec["paths"]
    # Typed codes and passes are rate limited on the payment route, so it documents 429.
    assert "429" in spec["paths"]["/api/v1/merchant/redemptions"]["post"]["responses"]
