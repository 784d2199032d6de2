"""What /api/v1/openapi.json promises: our error body, bounded numbers, times with a zone.

Every operation lists the error statuses it can really answer, each with the error body
``{"error": {"code", "message", ...}}``, and no catch-all ``default`` response, so a client
(or schemathesis) can check a status against the spec. The statuses every operation of a
kind shares are added here (:class:`ErrorResponses`); a route declares only its own.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from apispec import BasePlugin
from flask import Flask
from marshmallow import INCLUDE, Schema, fields, validate

from kindpakket.inputs import BIGINT_MAX, BIGINT_MIN, IdConverter

ERROR_REF = {"$ref": "#/components/schemas/Error"}
LOGIN_AREAS = ("/api/v1/wallet", "/api/v1/merchant", "/api/v1/admin")
UNSAFE = ("post", "put", "patch", "delete")
DESCRIPTIONS = {
    400: "bad request: invalid JSON, expired form (csrf_failed) or a refused use case",
    401: "not logged in (login_required)",
    403: "logged in with another role (forbidden)",
    404: "no such resource (also for ids outside their column's range)",
    413: "request body too large (too_large)",
    422: "invalid input (invalid_input, invalid_text, text_too_long, json_too_deep)",
    429: "too many requests",
}


class ErrorDetail(Schema):
    """What went wrong: a fixed code for programs, a message for people (and details)."""

    class Meta:
        """Refusals add details of their own (``left``, ``retry_after`` ...)."""

        unknown = INCLUDE

    code = fields.String(required=True, metadata={"example": "invalid_input"})
    message = fields.String(required=True, metadata={"description": "in the user's language"})
    fields_ = fields.Dict(
        data_key="fields", metadata={"description": "per location and field: messages"}
    )
    field = fields.String(metadata={"description": "where refused text was found"})


class ErrorSchema(Schema):
    """The body of every error answer (more keys may follow ``code`` and ``message``)."""

    error = fields.Nested(ErrorDetail, required=True)


class UtcDateTime(fields.DateTime):
    """An ISO 8601 date-time that always carries its zone (naive values are UTC)."""

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


def Cents(**kwargs: Any) -> fields.Integer:
    """Return an amount in cents: a whole number within a BIGINT column."""
    kwargs.setdefault("validate", validate.Range(min=BIGINT_MIN, max=BIGINT_MAX))
    return fields.Integer(strict=True, **kwargs)


FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)  # days around the ends of Python's calendar overflow in time zones


def Day(**kwargs: Any) -> fields.Date:
    """Return a calendar day (ISO 8601) a period filter can use: 1900 .. 2999."""
    kwargs.setdefault("validate", validate.Range(min=FIRST_DAY, max=LAST_DAY))
    return fields.Date(**kwargs)


def Count(minimum: int = 0, **kwargs: Any) -> fields.Integer:
    """Return a count or sequence number: a whole number from ``minimum`` up to BIGINT."""
    kwargs.setdefault("validate", validate.Range(min=minimum, max=BIGINT_MAX))
    return fields.Integer(**kwargs)


def id_param_schema(converter: IdConverter) -> dict[str, Any]:
    """Document an ``<int:...>`` URL part."""
    return {"type": "integer", "minimum": converter.min, "maximum": converter.max}


class ErrorResponses(BasePlugin):
    """Add the error statuses an operation shares with others of its kind, with our body."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        rule = kwargs.get("rule")
        for method, operation in (operations or {}).items():
            responses: dict[Any, Any] = operation.setdefault("responses", {})
            responses.pop("default", None)
            have = {str(status) for status in responses}
            for status in sorted(self._statuses(path or "", method, operation, rule)):
                if str(status) not in have:
                    responses[str(status)] = {"description": DESCRIPTIONS[status]}
            for status, response in responses.items():
                if int(status) >= 400 and isinstance(response, dict) and "content" not in response:
                    response["content"] = {"application/json": {"schema": ERROR_REF}}

    def _statuses(self, path: str, method: str, operation: dict[str, Any], rule: Any) -> set[int]:
        statuses: set[int] = set()
        converters = getattr(rule, "_converters", {}) or {}
        if converters:
            statuses.add(404)
        if (
            operation.get("parameters")
            or operation.get("requestBody")
            or any(not isinstance(c, IdConverter) for c in converters.values())
        ):
            statuses.add(422)
        if operation.get("requestBody"):
            statuses.update((400, 413, 422))
        if path.startswith(LOGIN_AREAS):
            statuses.update((401, 403))
            if method in UNSAFE:
                statuses.add(400)  # the CSRF token of the session
        if rule is not None and self._rate_limited(rule.endpoint, method):
            statuses.add(429)
        return statuses

    def _rate_limited(self, endpoint: str, method: str) -> bool:
        from flask_limiter.util import get_qualified_name

        from kindpakket.security import limiter

        view = self.app.view_functions.get(endpoint)
        view_class = getattr(view, "view_class", None)
        if view_class is not None:
            view = getattr(view_class, method, None)
        if view is None:
            return False
        return bool(limiter.limit_manager.decorated_limits(get_qualified_name(view)))


def init_app(app: Flask) -> dict[str, Any]:
    """Return the spec options of ``app``'s API (its plugins)."""
    return {"extra_plugins": [ErrorResponses(app)]}
