"""Security headers (CSP), CSRF protection and rate limits."""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect

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
# The scanner page alone may use the camera (and WebAssembly, for decoders that need it).
SCANNER_CSP = {**CSP, "script-src": "'self' 'wasm-unsafe-eval'", "media-src": "'self' blob:"}
NO_PERMISSIONS = {"camera": "()", "microphone": "()", "geolocation": "()", "payment": "()"}
CAMERA_PERMISSIONS = {**NO_PERMISSIONS, "camera": "(self)"}

talisman = Talisman()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def scanner_page(view):  # type: ignore[no-untyped-def]
    """Mark a view as the scanner page: camera allowed, WebAssembly allowed."""
    return talisman(content_security_policy=SCANNER_CSP, permissions_policy=CAMERA_PERMISSIONS)(
        view
    )


def init_app(app: Flask) -> None:
    """Bind headers, CSRF and the rate limiter to ``app``."""
    talisman.init_app(
        app,
        force_https=False,  # TLS ends at the reverse proxy; HSTS is still sent over HTTPS
        content_security_policy=CSP,
        permissions_policy=NO_PERMISSIONS,
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=True,
        referrer_policy="same-origin",
        frame_options="DENY",
    )
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # bound to the session instead
    csrf.init_app(app)
    app.config["RATELIMIT_STORAGE_URI"] = app.config["RATELIMIT_STORAGE_URI"]
    app.config["RATELIMIT_ENABLED"] = app.config["RATELIMIT_ENABLED"]
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
