"""Translation catalog tool: English msgids in the code, translations in ``<package>/i18n/<lang>``.

Each package keeps one or more small .po fragments (so parallel work never edits one file);
``compile`` merges them into ``kindpakket/translations/<lang>/LC_MESSAGES/messages.mo``.
Dutch covers every msgid; Turkish, Arabic, Polish and Ukrainian cover the family's msgids
(the wallet, the letters' texts and the shared page frame the family sees).

    python -m kindpakket.i18n_catalog missing [lang]  # msgids without a translation, as .po text
    python -m kindpakket.i18n_catalog compile         # rebuild every .mo from all fragments
"""

from __future__ import annotations

import io
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("kindpakket", "wallet", "merchant", "admin")
TRANSLATIONS = ROOT / "kindpakket" / "translations"
MO_PATH = TRANSLATIONS / "nl" / "LC_MESSAGES" / "messages.mo"
LOCALES = ("nl", "tr", "ar", "pl", "uk")  # English is the msgid itself
FAMILY_LOCALES = ("tr", "ar", "pl", "uk")  # these cover the family's msgids only
FAMILY_SOURCES = (  # where the family's msgids are used (package-relative "package/file")
    "wallet/",
    "admin/funds/letter_texts.py",  # everything printed for a family
    "kindpakket/templates/base.html",
    "kindpakket/templates/error.html",
    "kindpakket/httperrors.py",
)
# N_ marks a msgid translated later, where Flask-Babel is not imported (kindpakket/keys.py).
KEYWORDS = {
    "_": None,
    "_l": None,
    "N_": None,
    "gettext": None,
    "lazy_gettext": None,
    "ngettext": (1, 2),
}
METHODS = [
    ("**/migrations/**", "ignore"),
    ("**.py", "python"),
    ("**/templates/**.html", "jinja2"),
]
JINJA_OPTIONS = {"extensions": "jinja2.ext.do", "trimmed": "true"}


def extract() -> dict[str, list[str]]:
    """Return every msgid used in the code with where it is used."""
    found: dict[str, list[str]] = {}
    for package in PACKAGES:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT / package,
            METHODS,
            keywords=KEYWORDS,
            options_map={"**/templates/**.html": JINJA_OPTIONS},
        ):
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                found.setdefault(msgid, []).append(f"{package}/{filename}:{lineno}")
    return found


def mo_path(locale: str = "nl") -> Path:
    """Return where the compiled catalog of ``locale`` lives."""
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo"


def fragments(locale: str = "nl") -> Catalog:
    """Return one catalog merged from every package's fragments for ``locale``."""
    fixed = datetime(2026, 1, 1, tzinfo=UTC)  # no build time in the file: compiles reproducibly
    merged = Catalog(locale=locale, domain="messages", creation_date=fixed, revision_date=fixed)
    for package in PACKAGES:
        for path in sorted((ROOT / package / "i18n" / locale).glob("*.po")):
            with path.open("rb") as fh:
                for message in read_po(fh, locale=locale):
                    if message.id and message.string:
                        merged.add(message.id, message.string)
    return merged


def is_family(where: list[str]) -> bool:
    """Tell whether a msgid used at ``where`` is one the family sees."""
    return any(place.startswith(FAMILY_SOURCES) for place in where)


def family_msgids() -> dict[str, list[str]]:
    """Return the family's msgids (wallet, letters, the page frame) with where they are used."""
    return {m: where for m, where in extract().items() if is_family(where)}


def missing(locale: str = "nl") -> dict[str, list[str]]:
    """Return msgids without a translation in ``locale``: all for Dutch, the family's for others."""
    catalog = fragments(locale)
    wanted = extract() if locale == "nl" else family_msgids()
    return {m: where for m, where in wanted.items() if m not in catalog}


def compiled_bytes(locale: str = "nl") -> bytes:
    """Return the .mo bytes of the merged fragments."""
    out = io.BytesIO()
    write_mo(out, fragments(locale))
    return out.getvalue()


def messages(catalog: Catalog) -> dict[object, object]:
    """Return the translations of ``catalog`` by msgid, without the header entry.

    The header carries the Babel version that wrote it ("Generated-By"), which is no part of
    the meaning: comparing these dicts tells whether a compiled file is current whatever
    Babel release compiled it.
    """
    return {m.id: m.string for m in catalog if m.id}


def compiled_messages(path: Path = MO_PATH) -> dict[object, object]:
    """Return the translations in the compiled ``.mo`` file at ``path``."""
    with path.open("rb") as fh:
        return messages(read_mo(fh))


def compile_catalog(locale: str = "nl") -> Path:
    """Write the merged .mo file of ``locale``."""
    path = mo_path(locale)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(compiled_bytes(locale))
    tmp.replace(path)
    return path


def _po_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def main(argv: list[str]) -> int:
    """Run ``missing`` or ``compile``."""
    if argv[:1] == ["missing"]:
        total = 0
        for locale in argv[1:2] or LOCALES:
            todo = missing(locale)
            if todo:
                print(f"# --- {locale}: <package>/i18n/{locale}/*.po ---\n")
            for msgid, where in sorted(todo.items(), key=lambda kv: kv[1][0]):
                print(f'#: {" ".join(where[:3])}\nmsgid "{_po_escape(msgid)}"\nmsgstr ""\n')
            print(f"# {locale}: {len(todo)} missing", file=sys.stderr)
            total += len(todo)
        return 1 if total else 0
    if argv[:1] == ["compile"]:
        for locale in LOCALES:
            print(compile_catalog(locale))
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
