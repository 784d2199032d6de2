"""Logins for three kinds of user, told apart by a prefix in the session id.

``household:<id>:<session>``, ``shop_user:<id>``, ``admin:<id>``. Actor packages register a
loader per prefix; the platform never imports them. ``require_role`` guards views.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user

from kindpakket.errors import DomainError, wants_json

login_manager = LoginManager()
_loaders: dict[str, Callable[[str], Any]] = {}
_login_views: dict[str, str] = {}


def register_role(
    prefix: str, loader: Callable[[str], Any], login_view: str, roles: tuple[str, ...]
) -> None:
    """Register how to load a ``prefix:...`` user and the login page for its ``roles``."""
    _loaders[prefix] = loader
    for role in roles:
        _login_views[role] = login_view


@login_manager.user_loader
def _load(user_id: str) -> Any:
    prefix, _, rest = user_id.partition(":")
    loader = _loaders.get(prefix)
    return loader(rest) if loader else None


def safe_next(prefix: str, default_endpoint: str) -> str:
    """Return the ``next`` URL of a login when it stays under ``prefix``, else the default."""
    next_url = request.args.get("next", "")
    if not next_url.startswith(prefix) or next_url.startswith("//"):
        return url_for(default_endpoint)
    return next_url


def require_role(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Allow the view only to a logged-in user whose ``role`` is one of ``roles``."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            role = getattr(current_user, "role", None)
            if not current_user.is_authenticated:
                if wants_json():
                    raise DomainError("login_required", _l("Please log in first."))
                login_view = _login_views.get(roles[0])
                if login_view:
                    return redirect(url_for(login_view, next=request.full_path))
                raise DomainError("login_required", _l("Please log in first."))
            if role not in roles:
                raise DomainError("forbidden", _l("You are not allowed to do this."))
            return view(*args, **kwargs)

        return wrapped

    return decorator


def init_app(app: Flask) -> None:
    """Bind Flask-Login."""
    login_manager.init_app(app)
    # "basic": a phone switching from Wi-Fi to 4G changes address; that must not log it out.
    login_manager.session_protection = "basic"
