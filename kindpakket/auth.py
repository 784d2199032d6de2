"""Logins for three kinds of user, told apart by a prefix in the session id.

``household:<id>:<session>``, ``shop_user:<id>:<epoch>``, ``admin:<id>:<epoch>``. Each
actor's principal extends :class:`Principal` (staff: :class:`StaffPrincipal`, which also tells
the shared staff login rules and pages who they serve) and its package registers a loader per
prefix; the platform never imports them. ``require_role`` guards views.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, wraps
from typing import Any, ClassVar, TypeVar

from flask import Flask, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, UserMixin, current_user, logout_user
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, make_transient_to_detached

from kindpakket import logins
from kindpakket.audit import record_event
from kindpakket.errors import DomainError, wants_json

login_manager = LoginManager()
_loaders: dict[str, Callable[[str], Any]] = {}
_login_views: dict[str, str] = {}
_roles: dict[str, tuple[str, ...]] = {}


class Principal(UserMixin):
    """A logged-in user as Flask-Login sees it: login ``id``, ``role`` and audit ``actor``.

    ``prefix`` starts both the login id and the actor (``<prefix>:<actor_id>``).
    """

    prefix: ClassVar[str]

    def __init__(self, login_id: str, actor_id: int, role: str) -> None:
        self.id = login_id
        self.actor_id = actor_id
        self.role = role

    @property
    def actor(self) -> str:
        """Return the audit actor string."""
        return f"{self.prefix}:{self.actor_id}"


class StaffPrincipal(Principal):
    """A logged-in staff member (municipality or shop): a row with a session epoch.

    The class describes its kind of staff to the shared login rules (:mod:`kindpakket.logins`)
    and pages (:mod:`kindpakket.staff_pages`): its table, its ``prefix`` in login ids and
    audit actors, its ``noun`` in audit subjects and event names (``admin_user.logged_in``)
    and the municipalities its audit events belong to (:meth:`audit_scope`).
    """

    model: ClassVar[type[Any]]  # the staff row class: AdminUser, ShopUser
    noun: ClassVar[str]  # admin_user, shop_user

    def __init__(self, user: Any) -> None:
        super().__init__(logins.login_id(self.prefix, user), user.id, user.role)
        self.user_id = user.id
        self.name = user.name
        self.email = user.email

    @classmethod
    def load_row(cls, session: Session, rest: str) -> Any | None:
        """Return the active staff row of a login id's ``rest``; None for a stale cookie."""
        parsed = logins.parse_rest(rest)
        if parsed is None:
            return None
        # Core, not session.get: this runs on every request of a logged-in staff member.
        found = session.connection().execute(_by_id(cls.model), {"id": parsed[0]}).first()
        if found is None:
            return None
        user = cls.model(**found._asdict())
        make_transient_to_detached(user)  # as if loaded: session.merge(user, load=False) works
        if not user.active or not logins.current_epoch(user, parsed[1]):
            return None
        return user

    @classmethod
    def audit_scope(cls, session: Session, who: Any) -> dict[str, Any]:
        """Return where the audit events of ``who`` (a row or principal) belong.

        ``{"tenant_id": ...}`` or ``{"funds": [...]}``: keyword arguments of ``record_event``.
        """
        raise NotImplementedError


@cache
def _by_id(model: type[Any]) -> Select[Any]:
    """Return the statement that reads one row of ``model`` by id (built once per model)."""
    table = model.__table__
    return select(table).where(table.c.id == bindparam("id"))


P = TypeVar("P", bound=Principal)


def logged_in(kind: type[P]) -> P | None:
    """Return the logged-in principal when it is a ``kind``, else None."""
    principal = getattr(current_user, "_get_current_object", lambda: None)()
    return principal if isinstance(principal, kind) else None


def log_out_staff(session: Session, kind: type[StaffPrincipal]) -> None:
    """Log the staff member out everywhere (every cookie issued so far stops working).

    Audited as ``<noun>.logged_out``; nothing is recorded when nobody was logged in.
    """
    principal = logged_in(kind)
    if principal is not None:
        record_event(
            session,
            f"{kind.noun}.logged_out",
            actor=principal.actor,
            subject=f"{kind.noun}:{principal.user_id}",
            **kind.audit_scope(session, principal),
        )
        user = session.get(kind.model, principal.user_id)
        if user is not None:
            logins.end_sessions(user)
    logout_user()


def register_role(
    prefix: str, loader: Callable[[str], Any], login_view: str, roles: tuple[str, ...]
) -> None:
    """Register how to load a ``prefix:...`` user and the login page for its ``roles``."""
    _loaders[prefix] = loader
    _roles[prefix] = roles
    for role in roles:
        _login_views[role] = login_view


def roles_of(prefix: str) -> tuple[str, ...]:
    """Return the roles registered for the ``prefix:...`` users."""
    return _roles[prefix]


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
