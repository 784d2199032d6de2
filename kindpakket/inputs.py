"""One gate for every request's input, before any view or database sees it.

Whatever a client sends, the answer is ours (404, 413 or 422 with the standard error body),
never a server error from a driver or parser deeper down:

* ids in URLs (``<int:...>``) are whole numbers written in ASCII digits within their column:
  1 .. 2**31-1 (INTEGER) for ids, 1 .. 2**63-1 (BIGINT) for the ledger's numbers ``seq`` and
  ``size``; anything else is a plain 404, as for a number that does not exist (PostgreSQL
  would refuse the comparison with an out-of-range error);
* text (query arguments, form fields, path parts, JSON strings and keys) may not hold NUL
  (PostgreSQL refuses it), lone surrogates (no UTF-8 exists for them) or more than
  ``MAX_TEXT`` characters;
* a day typed in a query or form (``YYYY-MM-DD``, as date inputs send it) lies in the years
  1900 .. 2999: days near the ends of Python's calendar overflow when periods are turned into
  instants in a time zone, in every date filter alike;
* a JSON body is at most ``MAX_JSON_BYTES`` and ``MAX_JSON_DEPTH`` levels deep, and is checked
  before it is parsed (Python's parser recurses, and refuses integers over 4300 digits).

The bounds on amounts and integers live with the schemas (:mod:`kindpakket.openapi`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from flask import Flask, request
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter, Rule, ValidationError

from kindpakket.errors import DomainError

INT_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1
LEDGER_NUMBERS = frozenset({"seq", "size"})  # BIGINT columns; every other id is an INTEGER
BIGINT_MIN = -(2**63)
MAX_TEXT = 10_000  # characters in one field; forms and schemas set tighter bounds per field
MAX_JSON_BYTES = 64 * 1024  # API bodies are a few hundred bytes
MAX_JSON_DEPTH = 32

_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")
_ISO_DAY = re.compile(r"\s*([0-9]{4})-[0-9]{2}-[0-9]{2}\s*")
FIRST_YEAR, LAST_YEAR = 1900, 2999
_JSON_TOKENS = re.compile(rb'\\.|["\[\]{}]')  # escapes first, so \" is no quote


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: 1 .. ``max`` in ASCII digits, else no match (404)."""

    regex = r"[0-9]+"

    def __init__(self, map: Any, fixed_digits: int = 0, min: int = 1, max: int = INT_MAX):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max)

    def to_python(self, value: str) -> int:
        if len(value) > len(str(BIGINT_MAX)):  # before int(): no 4300-digit parsing
            raise ValidationError()
        number: int = super().to_python(value)
        return number


class BoundedRule(Rule):
    """A URL rule whose plain ``<int:name>`` parts get the range of their column."""

    def get_converter(
        self, variable_name: str, converter_name: str, args: tuple[Any, ...], kwargs: Any
    ) -> Any:
        if converter_name == "int" and not args and not kwargs:
            kwargs = {"max": BIGINT_MAX if variable_name in LEDGER_NUMBERS else INT_MAX}
        return super().get_converter(variable_name, converter_name, args, kwargs)


def init_app(app: Flask) -> None:
    """Bound the ``int`` URL converter and check every request's input before its view.

    Call before any blueprint is registered (rules bind their converter when added) and
    before the other extensions, so this check runs first.
    """
    app.url_map.converters["int"] = IdConverter
    app.url_rule_class = BoundedRule
    app.before_request_funcs.setdefault(None, []).insert(0, check_request)


def refuse(code: str, message: Any, **details: Any) -> DomainError:
    """Return the error for refused input."""
    return DomainError(code, message, **details)


def check_request() -> None:
    """Refuse input that no view could store or parse safely (runs before every view)."""
    for where, name, text in _texts():
        check_text(text, field=f"{where}.{name}")
        check_day(text, field=f"{where}.{name}")
    if request.is_json and request.method not in ("GET", "HEAD", "OPTIONS"):
        body = request.get_data(cache=True)
        if body:
            check_json(body)


def _texts() -> Iterator[tuple[str, str, str]]:
    """Yield ``(location, name, value)`` for every text in the URL and form."""
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str):
            yield "path", name, value
    for name, value in request.args.items(multi=True):
        yield "query", name, name
        yield "query", name, value
    if request.method not in ("GET", "HEAD", "OPTIONS") and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        for name, value in request.form.items(multi=True):
            yield "form", name, name
            yield "form", name, value


def check_text(text: str, *, field: str = "", limit: int = MAX_TEXT) -> str:
    """Return ``text`` when it can be stored; raise a 422 for NUL, lone surrogates or length."""
    if len(text) > limit:
        raise refuse(
            "text_too_long",
            _l("A text is too long (at most %(limit)s characters).", limit=limit),
            field=field,
        )
    if _BAD_CHARS.search(text):
        raise refuse(
            "invalid_text",
            _l("A text holds characters that are not allowed (such as NUL)."),
            field=field,
        )
    return text


def check_day(text: str, *, field: str = "") -> str:
    """Return ``text``; raise a 422 when it is an ISO day outside the years we can handle."""
    day = _ISO_DAY.fullmatch(text)
    if day and not FIRST_YEAR <= int(day.group(1)) <= LAST_YEAR:
        raise refuse(
            "date_out_of_range",
            _l("Choose a date between %(first)s and %(last)s.", first=FIRST_YEAR, last=LAST_YEAR),
            field=field,
        )
    return text


def check_json(body: bytes) -> Any:
    """Parse a JSON body within our bounds and check its strings; return the parsed value."""
    if len(body) > MAX_JSON_BYTES:
        raise refuse("too_large", _l("The request is too large."))
    if _depth(body) > MAX_JSON_DEPTH:
        raise refuse("json_too_deep", _l("The request is nested too deeply."))
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):  # malformed, bad UTF-8, or a 4300-digit number
        raise refuse("invalid_json", _l("The request is not valid JSON.")) from None
    _check_json_texts(value, "json")
    return value


def _depth(body: bytes) -> int:
    """Return how deep arrays and objects nest in a JSON text (brackets in strings skipped).

    One pass over the tokens, linear in the body's size whatever it holds.
    """
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return 0  # cannot be too deep
    depth = deepest = 0
    in_string = False
    for match in _JSON_TOKENS.finditer(body):
        token = match.group()
        if token == b'"':
            in_string = not in_string
        elif in_string:
            continue
        elif token in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


def _check_json_texts(value: Any, where: str) -> None:
    if isinstance(value, str):
        check_text(value, field=where)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, field=where)
            _check_json_texts(item, f"{where}.{key[:40]}")
    elif isinstance(value, list):
        for item in value:
            _check_json_texts(item, where)
