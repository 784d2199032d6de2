"""Plain-language, translated texts for HTTP errors (Werkzeug's own descriptions are English).

The error page and the JSON error body show these instead of Werkzeug's text; 413 names the
upload limit of this installation.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from kindpakket.i18n import current_language

MESSAGES: dict[int, Any] = {
    400: _l(
        "The request could not be understood. Go back, check what you filled in and try again."
    ),
    401: _l("You need to log in to see this page."),
    403: _l("You are not allowed to do this."),
    404: _l("This page does not exist. Check the address, or start again from the start page."),
    405: _l("This page cannot be used this way."),
    409: _l("This conflicts with a change made at the same time. Reload the page and try again."),
    410: _l("This page is no longer available."),
    422: _l("What you sent could not be processed. Check it and try again."),
    429: _l("Too many attempts. Wait a moment and try again."),
    500: _l("Something went wrong on our side. Try again later."),
    503: _l("The service is briefly unavailable. Try again in a few minutes."),
}


def _size(limit: int) -> str:
    """Return a byte count in the current language, e.g. "32 MB" or "1,5 kB"."""
    size, unit = (limit / (1024 * 1024), "MB") if limit >= 1024 * 1024 else (limit / 1024, "kB")
    text = f"{size:.0f}" if size == int(size) else f"{size:.1f}"
    return (text.replace(".", ",") if current_language() == "nl" else text) + " " + unit


def message(err: HTTPException) -> str:
    """Return the text people see for ``err`` in their language."""
    code = err.code or 500
    if code == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        if limit:
            return _("The file or form is too large. The limit is %(size)s.", size=_size(limit))
        return _("The file or form is too large.")
    text = MESSAGES.get(code)
    if text is None:
        return str(MESSAGES[500] if code >= 500 else MESSAGES[400])
    return str(text)
