"""Errors as values with fixed codes, and how the shell turns them into answers.

A service raises ``DomainError(code, message)``; the shell rolls the request's work back
and answers JSON ``{"error": {"code", "message", ...}}`` for API paths, or the HTML error
page for pages, in the user's language. ``message`` should be a ``lazy_gettext`` string.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


class DomainError(Exception):
    """A refused use case: a stable ``code``, a message for people, an HTTP status."""

    def __init__(self, code: str, message: Any, *, status: int = 400, **details: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON body of this error."""
        return {"error": {"code": self.code, "message": str(self.message), **self.details}}


def wants_json() -> bool:
    """Return True for API paths and clients that asked for JSON."""
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def init_app(app: Flask) -> None:
    """Register the error handlers."""

    @app.errorhandler(DomainError)
    def _domain(err: DomainError) -> tuple[Response | str, int]:
        from kindpakket.db import db

        db.discard()
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
