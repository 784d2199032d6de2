"""Languages: Dutch by default, English second; msgids are English, catalogs per package.

Staff pages (municipality, shops) speak Dutch and English. The family's pages (the wallet, the
pass balance page, the wallet's e-mail pages) also speak Turkish, Arabic (right to left),
Polish and Ukrainian; a family language in the cookie falls back to Dutch on staff pages.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, g, has_request_context, request
from flask_babel import Babel, get_locale

LANGUAGES = ("nl", "en")  # staff pages
FAMILY_LANGUAGES = ("nl", "en", "tr", "ar", "pl", "uk")  # the family's pages and letters
NAMES = {  # each language named in itself
    "nl": "Nederlands",
    "en": "English",
    "tr": "Türkçe",
    "ar": "العربية",
    "pl": "Polski",
    "uk": "Українська",
}
RTL = frozenset({"ar"})
FAMILY_BLUEPRINTS = frozenset({"wallet", "wallet_email", "wallet_passes"})
DEFAULT = "nl"
ROOT = Path(__file__).resolve().parent.parent
CATALOG_DIRS = [str(ROOT / "kindpakket" / "translations")]  # compiled by i18n_catalog

babel = Babel()


def offered() -> tuple[str, ...]:
    """Return the languages this request's page speaks: six on the family's pages, else two."""
    if has_request_context() and request.blueprint in FAMILY_BLUEPRINTS:
        return FAMILY_LANGUAGES
    return LANGUAGES


def select_locale() -> str:
    """Return the language: ``?lang=`` first, then the ``lang`` cookie, then the household's
    own language (family pages), else Dutch."""
    if not request:
        return DEFAULT
    languages = offered()
    chosen = request.args.get("lang") or request.cookies.get("lang")
    if chosen in languages:
        g.kp_lang_chosen = request.args.get("lang") in languages
        return chosen
    if languages is FAMILY_LANGUAGES and chosen is None:
        household = _household_language()
        if household in languages:
            return household
    return DEFAULT


def _household_language() -> str | None:
    """Return the logged-in household's stored language, if any (family pages only)."""
    try:
        from flask_login import current_user
    except ImportError:  # pragma: no cover - flask_login is a dependency
        return None
    if not getattr(current_user, "is_authenticated", False):
        return None
    return getattr(current_user, "language", None)


def current_language() -> str:
    """Return the language in force (the request's, or ``force_locale``'s).

    Dutch outside a request unless ``flask_babel.force_locale`` says otherwise.
    """
    try:
        locale = get_locale()
    except RuntimeError:  # outside an app context
        locale = None
    language = locale.language if locale is not None else DEFAULT
    return language if language in FAMILY_LANGUAGES else DEFAULT


def direction(language: str) -> str:
    """Return "rtl" for right-to-left languages, else "ltr"."""
    return "rtl" if language in RTL else "ltr"


def init_app(app: Flask) -> None:
    """Bind Flask-Babel and remember an explicit language choice in a cookie."""
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(CATALOG_DIRS)
    babel.init_app(app, locale_selector=select_locale)

    @app.after_request
    def _remember(response):  # type: ignore[no-untyped-def]
        lang = request.args.get("lang")
        if lang in offered():
            response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="Lax")
        return response

    @app.context_processor
    def _lang() -> dict[str, object]:
        lang = current_language()
        return {
            "lang": lang,
            "lang_dir": direction(lang),
            "languages": offered(),
            "language_names": NAMES,
        }
