"""Security headers (CSP), cookie flags, CSRF protection, proxies and rate limits."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import flask_talisman
from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: blob:",
    "connect-src": "'self'",
    "font-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# The scanner page alone may use the camera; jsQR is plain JavaScript, so no WebAssembly.
SCANNER_CSP = {**CSP, "media-src": "'self' blob:"}
NO_PERMISSIONS = {"camera": "()", "microphone": "()", "geolocation": "()", "payment": "()"}
CAMERA_PERMISSIONS = {**NO_PERMISSIONS, "camera": "(self)"}

# Logins: failures only are counted, per client address and per account, in layers, so a
# guesser waits a minute, then an hour, then a day (the backoff); staff accounts also lock
# in the database (kindpakket.logins) and family PINs per household (wallet.activation).
LOGIN_LIMITS_PER_ADDRESS = "10 per minute; 60 per hour; 300 per day"
LOGIN_LIMITS_PER_ACCOUNT = "10 per minute; 30 per hour; 100 per day"


class Talisman(flask_talisman.Talisman):
    """flask-talisman, each view's headers composed once instead of on every answer.

    Its options are fixed once the app is built (the scanner page's by a decorator), and
    the two that act per request are refused: a CSP nonce (differs per answer) and the
    redirect to HTTPS (TLS ends at the reverse proxy). The headers it writes then depend
    only on the view and on whether the request came over HTTPS (HSTS); composing them and
    running its two no-op request hooks anew cost 6 % of a payment's instructions. What it
    writes is still flask-talisman's own doing, on a scratch answer, once per view.
    """

    _composed: dict[tuple[str | None, bool], tuple[tuple[str, str], ...]]

    def init_app(self, app: Flask, **kwargs: Any) -> None:
        """Bind to ``app`` as flask-talisman does, without the per-request options."""
        _refuse_per_request({"force_https": True, **kwargs})  # its default is True
        self._composed = {}
        super().init_app(app, **kwargs)

    def __call__(self, **kwargs: Any) -> Any:
        """Decorate a view with options of its own (the per-request ones refused)."""
        _refuse_per_request(kwargs)
        return super().__call__(**kwargs)

    def _force_https(self) -> None:
        """Nothing to do: no redirect to HTTPS (refused above)."""

    def _make_nonce(self) -> None:
        """Nothing to do: no CSP nonce (refused above)."""

    def _set_response_headers(self, response: Response) -> Response:
        https = request.is_secure or request.headers.get("X-Forwarded-Proto") == "https"
        key = (request.endpoint, https)
        headers = self._composed.get(key)
        if headers is None:
            scratch = Response()
            before = set(scratch.headers.keys())
            super()._set_response_headers(scratch)
            headers = tuple((k, v) for k, v in scratch.headers.items() if k not in before)
            self._composed[key] = headers
        for name, value in headers:
            response.headers[name] = value
        return response


def _refuse_per_request(options: dict[str, Any]) -> None:
    if options.get("force_https") or options.get("content_security_policy_nonce_in"):
        raise ValueError("Talisman: force_https and CSP nonces vary per request, not supported")


talisman = Talisman()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def scanner_page(view):  # type: ignore[no-untyped-def]
    """Mark a view as the scanner page: camera allowed (and nothing more)."""
    return talisman(content_security_policy=SCANNER_CSP, permissions_policy=CAMERA_PERMISSIONS)(
        view
    )


def failed(response: Response) -> bool:
    """Return True for an answer that counts against a login budget (any refusal)."""
    return response.status_code >= 400


def account_key(kind: str, value: str) -> str:
    """Return the rate-limit key of an account (hashed: no e-mail addresses in Redis)."""
    digest = hashlib.sha256(f"{kind}\0{value.strip().lower()}".encode()).hexdigest()
    return f"account:{kind}:{digest[:32]}"


def login_limits(
    kind: str, account: Callable[[], str], methods: tuple[str, ...] = ("POST",)
) -> Callable[[Any], Any]:
    """Limit failed logins per client address and per account (``account()`` names it)."""

    def per_account() -> str:
        return account_key(kind, account() or "")

    def decorate(view: Any) -> Any:
        view = limiter.limit(
            LOGIN_LIMITS_PER_ACCOUNT,
            key_func=per_account,
            methods=list(methods),
            deduct_when=failed,
        )(view)
        return limiter.limit(LOGIN_LIMITS_PER_ADDRESS, methods=list(methods), deduct_when=failed)(
            view
        )

    return decorate


def form_field(name: str) -> Callable[[], str]:
    """Return a key function reading a posted form field (for per-account limits)."""
    return lambda: str(request.form.get(name, ""))


def init_app(app: Flask) -> None:
    """Bind proxies, headers, cookie flags, CSRF and the rate limiter to ``app``."""
    hops = int(app.config.get("TRUSTED_PROXIES", 0))
    if hops > 0:  # the client address and scheme come from the proxies' headers
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
    secure = bool(app.config["SESSION_COOKIE_SECURE"])
    talisman.init_app(
        app,
        force_https=False,  # TLS ends at the reverse proxy; HSTS is still sent over HTTPS
        content_security_policy=CSP,
        permissions_policy=NO_PERMISSIONS,
        session_cookie_secure=secure,
        session_cookie_http_only=True,
        referrer_policy="same-origin",
        frame_options="DENY",
    )
    # One setting for every cookie: the session and the family's long-lived remember cookie.
    app.config.update(
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
    )
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # bound to the session instead
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)
