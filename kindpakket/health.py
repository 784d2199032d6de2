"""``/readyz`` and the service hold (factory side: it reads migrations and the keyring).

``/healthz`` (in the factory) says the process is alive. ``/readyz`` says it should get
traffic: the database answers, its migrations are the code's, the signing keys load, no
restore hold is in force, and every check registered with :func:`register_check` passes.
A worker (none exists yet) registers its heartbeat check here, named ``worker_heartbeat``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, jsonify, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import text

from kindpakket import hold
from kindpakket.db import db, read_only
from kindpakket.errors import DomainError

Check = Callable[[], str | None]  # returns a problem in plain words, or None when fine
_checks: dict[str, Check] = {}
UNHELD = frozenset({"healthz", "readyz", "metrics", "static"})


def register_check(name: str, check: Check) -> None:
    """Add a readiness check, e.g. ``register_check("worker_heartbeat", heartbeat_recent)``."""
    _checks[name] = check


def init_app(app: Flask) -> None:
    """Register /readyz and the guard that refuses requests while a hold is in force."""
    app.extensions["kindpakket_hold"] = hold.HoldCache()

    @app.get("/readyz")
    def readyz() -> Any:
        """Say whether this instance should get traffic, check by check."""
        results = {name: _run(check) for name, check in _builtin_checks().items()}
        results.update({name: _run(check) for name, check in _checks.items()})
        ready = all(r == "ok" for r in results.values())
        return jsonify({"status": "ready" if ready else "not_ready", "checks": results}), (
            200 if ready else 503
        )

    @app.before_request
    def _refuse_while_held() -> Any:
        if request.endpoint in UNHELD:
            return None
        try:
            held = _cached_hold()
        except Exception:  # the database is down: let the request fail as it would
            return None
        if held is None:
            return None
        raise DomainError(
            "service_held",
            _l("The service is paused after maintenance. Please try again later."),
        )


def _run(check: Check) -> str:
    try:
        problem = check()
    except Exception as exc:
        problem = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return "ok" if problem is None else problem


def _builtin_checks() -> dict[str, Check]:
    return {
        "database": _database,
        "migrations": _migrations,
        "signing_keys": _signing_keys,
        "restore_hold": _restore_hold,
    }


def _database() -> str | None:
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return None


def _migrations() -> str | None:
    from kindpakket.migrate import current, heads

    have, want = current(db.engine), heads()
    return None if have == want else f"database at {sorted(have)}, code at {sorted(want)}"


def _signing_keys() -> str | None:
    from kindpakket.appkeys import app_keyring

    ring = app_keyring()
    for purpose in ("token", "checkpoint"):
        if ring.active(purpose):
            ring.signing_key(purpose)  # raises when missing, unreadable or too open
    return None


def _restore_hold() -> str | None:
    current_app.extensions["kindpakket_hold"].forget()
    held = _cached_hold()
    return None if held is None else f"held after a restore: {held['reason']}"


def _cached_hold() -> dict[str, Any] | None:
    def read() -> dict[str, Any] | None:
        with read_only(), db.sessionmaker() as session:
            return hold.current(session)

    cache: hold.HoldCache = current_app.extensions["kindpakket_hold"]
    return cache.get(read)
