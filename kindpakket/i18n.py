"""Languages: Dutch by default, English second; msgids are English, catalogs per package."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, g, request
from flask_babel import Babel, get_locale

LANGUAGES = ("nl", "en")
DEFAULT = "nl"
ROOT = Path(__file__).resolve().parent.parent
CATALOG_DIRS = [str(ROOT / "kindpakket" / "translations")]  # compiled by i18n_catalog

babel = Babel()


def select_locale() -> str:
    """Return the language: ``?lang=`` first, then the ``lang`` cookie, else Dutch."""
    if not request:
        return DEFAULT
    chosen = request.args.get("lang") or request.cookies.get("lang")
    if chosen in LANGUAGES:
        g.kp_lang_chosen = request.args.get("lang") in LANGUAGES
        return chosen
    return DEFAULT


def current_language() -> str:
    """Return the language in force, "nl" or "en" (the request's, or ``force_locale``'s).

    Dutch outside a request unless ``flask_babel.force_locale`` says otherwise.
    """
    try:
        locale = get_locale()
    except RuntimeError:  # outside an app context
        locale = None
    language = locale.language if locale is not None else DEFAULT
    return language if language in LANGUAGES else DEFAULT


def init_app(app: Flask) -> None:
    """Bind Flask-Babel and remember an explicit language choice in a cookie."""
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(CATALOG_DIRS)
    babel.init_app(app, locale_selector=select_locale)

    @app.after_request
    def _remember(response):  # type: ignore[no-untyped-def]
        lang = request.args.get("lang")
        if lang in LANGUAGES:
            response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="Lax")
        return response

    @app.context_processor
    def _lang() -> dict[str, object]:
        return {"lang": current_language(), "languages": LANGUAGES}
