"""Errors as values with fixed codes, and how the shell turns them into answers.

A service raises ``DomainError(code, message)``; it does not choose an HTTP status. Each
package registers its code -> status map once (``register_statuses`` in its
``statuses.py``, imported by the package); codes not registered answer 400. The shell
rolls the request's work back unless the error keeps its work (``keeps_work``, see
:mod:`kindpakket.db`) and answers JSON ``{"error": {"code", "message", ...}}`` for API
paths, or the HTML error page for pages, in the user's language. The CLI prints the same
errors as "code: message" and exits 2, without statuses. ``message`` should be a
``lazy_gettext`` string.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

_STATUSES: dict[str, int] = {}


def register_statuses(statuses: Mapping[str, int]) -> None:
    """Register a package's HTTP status per error code (once; a code has one status)."""
    for code, status in statuses.items():
        if _STATUSES.setdefault(code, status) != status:
            raise ValueError(f"error code {code!r} answers {_STATUSES[code]}, not {status}")


def status_of(code: str) -> int:
    """Return the HTTP status registered for ``code`` (400 when none is)."""
    return _STATUSES.get(code, 400)


class DomainError(Exception):
    """A refused use case: a stable ``code``, a message for people, details for the body.

    ``keeps_work`` (class-wide, or per error) says the unit of work commits although this
    error is the answer: what was done before it is the point (a counted wrong PIN, a failed
    login's audit event). By default an error rolls its unit of work back.
    """

    keeps_work: bool = False
    statuses: ClassVar[Mapping[str, int]] = {}  # a type's own statuses, before the registry

    def __init__(
        self, code: str, message: Any, *, keeps_work: bool | None = None, **details: Any
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = details
        if keeps_work is not None:
            self.keeps_work = keeps_work

    @property
    def status(self) -> int:
        """Return the HTTP status of this error's code (chosen at the edge, not by services)."""
        return self.statuses.get(self.code) or status_of(self.code)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON body of this error."""
        return {"error": {"code": self.code, "message": str(self.message), **self.details}}


class ServerFault(DomainError):
    """A refusal caused by our own stored state, not the request: 500 whatever the code."""

    @property
    def status(self) -> int:
        """Return 500: the request was fine, what we hold is not."""
        return 500


# The platform's own codes (the actor packages register theirs in their statuses.py).
register_statuses(
    {
        "login_required": 401,
        "forbidden": 403,
        "receipt_link_invalid": 403,
        "no_entry": 404,
        "no_checkpoint": 404,
        "too_large": 413,
        "text_too_long": 422,
        "invalid_text": 422,
        "date_out_of_range": 422,
        "json_too_deep": 422,
        "account_locked": 429,
        "service_held": 503,
    }
)


def wants_json() -> bool:
    """Return True for API paths and clients that asked for JSON."""
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def init_app(app: Flask) -> None:
    """Register the error handlers."""

    @app.errorhandler(DomainError)
    def _domain(err: DomainError) -> tuple[Response | str, int]:
        from kindpakket.db import db

        db.note_error(err)
        if wants_json():
            return jsonify(err.to_dict()), err.status
        return render_template("error.html", code=err.code, message=err.message), err.status

    @app.errorhandler(CSRFError)
    def _csrf(err: CSRFError) -> Any:
        message = _l("This form has expired. Reload the page and try again.")
        if wants_json():
            return jsonify({"error": {"code": "csrf_failed", "message": str(message)}}), 400
        return render_template("error.html", code="csrf_failed", message=message), 400

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException) -> Any:
        from kindpakket.httperrors import message  # Werkzeug's descriptions are English

        if err.code and err.code >= 400 and wants_json():
            body: dict[str, Any] = {"error": {"code": _slug(err.name), "message": message(err)}}
            messages = getattr(err, "data", {}).get("messages") if hasattr(err, "data") else None
            if messages:
                body["error"]["code"] = "invalid_input"
                body["error"]["fields"] = messages
            return jsonify(body), err.code
        if err.code and err.code >= 400:
            return render_template("error.html", code=err.code, message=message(err)), err.code
        return err


def _slug(name: str) -> str:
    return name.lower().replace(" ", "_").replace("'", "")
