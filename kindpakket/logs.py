"""Logs as JSON lines with a request id, and no personal data.

Every line is one JSON object: ``time``, ``level``, ``logger``, ``message``, the request's
``request_id`` when there is one, and the fields a caller passed in ``extra={"kp": {...}}``.
Each request ends with one ``request`` line naming its endpoint (never the raw path or
query string, which may carry receipt tokens), method, status and duration.

The request id is ``X-Request-ID`` when ``REQUEST_ID_FROM_PROXY`` is on (the app listens
only behind a proxy that sets the header itself, overwriting a client's) and it looks like
an id; otherwise a new random one. It is sent back in ``X-Request-ID`` and shown on error
pages, so a caller can name it to the help desk.

What must never be logged: PINs, activation codes, tokens, passwords, names, addresses,
IBANs. Log ids (household 12, shop 3), error codes and counts instead.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, has_request_context, request

_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
_HANDLER_MARK = "_kindpakket_json"
access_log = logging.getLogger("kindpakket.request")
QUIET_LOGGERS = ("werkzeug", "alembic.runtime.migration")


def request_id() -> str | None:
    """Return the current request's id, or None outside a request."""
    return g.get("request_id") if has_request_context() else None


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON line."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as JSON: time, level, logger, message, request id, fields."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None)
        if rid:
            line["request_id"] = rid
        fields = getattr(record, "kp", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def _stamp_records() -> None:
    """Give every log record made during a request that request's id (once per process)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, _HANDLER_MARK, False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = request_id()
        return record

    setattr(factory, _HANDLER_MARK, True)
    logging.setLogRecordFactory(factory)


def install(level: str = "INFO") -> None:
    """Send every log record to stderr as JSON lines (once per process)."""
    root = logging.getLogger()
    if any(getattr(h, _HANDLER_MARK, False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    root.setLevel(level)
    # The development server's access lines carry the whole request line, query string
    # included (activation codes, receipt-link tokens): our own line per request replaces
    # them. The migration context's lines would repeat on every /readyz probe.
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def init_app(app: Flask) -> None:
    """Give every request an id, log one line per request, and show the id on error pages."""
    _stamp_records()
    if app.config.get("LOG_FORMAT", "json") == "json" and not app.testing:
        install(str(app.config.get("LOG_LEVEL", "INFO")))
    trust = bool(app.config.get("REQUEST_ID_FROM_PROXY"))

    @app.before_request
    def _start() -> None:
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if trust and _ID.match(given) else secrets.token_hex(8)
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        rid = g.get("request_id")
        if rid:
            response.headers["X-Request-ID"] = rid
        started = g.get("request_started")
        access_log.info(
            "request",
            extra={
                "kp": {
                    "endpoint": request.endpoint or "unmatched",
                    "method": request.method,
                    "status": response.status_code,
                    "ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
                }
            },
        )
        return response

    @app.context_processor
    def _inject() -> dict[str, Any]:
        return {"request_id": request_id()}
