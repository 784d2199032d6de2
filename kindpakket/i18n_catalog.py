"""Translation catalog tool: English msgids in the code, Dutch in ``<package>/i18n/nl/*.po``.

Each package keeps one or more small .po fragments (so parallel work never edits one file);
``compile`` merges them into ``kindpakket/translations/nl/LC_MESSAGES/messages.mo``.

    python -m kindpakket.i18n_catalog missing   # msgids without Dutch, as .po text to fill in
    python -m kindpakket.i18n_catalog compile   # rebuild the .mo from all fragments
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
MO_PATH = ROOT / "kindpakket" / "translations" / "nl" / "LC_MESSAGES" / "messages.mo"
KEYWORDS = {"_": None, "_l": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2)}
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


def fragments() -> Catalog:
    """Return one catalog merged from every package's Dutch fragments."""
    fixed = datetime(2026, 1, 1, tzinfo=UTC)  # no build time in the file: compiles reproducibly
    merged = Catalog(locale="nl", domain="messages", creation_date=fixed, revision_date=fixed)
    for package in PACKAGES:
        for path in sorted((ROOT / package / "i18n" / "nl").glob("*.po")):
            with path.open("rb") as fh:
                for message in read_po(fh, locale="nl"):
                    if message.id and message.string:
                        merged.add(message.id, message.string)
    return merged


def missing() -> dict[str, list[str]]:
    """Return msgids that have no Dutch translation yet."""
    catalog = fragments()
    return {m: where for m, where in extract().items() if m not in catalog}


def compiled_bytes() -> bytes:
    """Return the .mo bytes of the merged fragments."""
    out = io.BytesIO()
    write_mo(out, fragments())
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


def compile_catalog() -> Path:
    """Write the merged .mo file."""
    MO_PATH.parent.mkdir(parents=True, exist_ok=True)
    tmp = MO_PATH.with_suffix(".tmp")
    tmp.write_bytes(compiled_bytes())
    tmp.replace(MO_PATH)
    return MO_PATH


def _po_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def main(argv: list[str]) -> int:
    """Run ``missing`` or ``compile``."""
    if argv[:1] == ["missing"]:
        todo = missing()
        for msgid, where in sorted(todo.items(), key=lambda kv: kv[1][0]):
            print(f'#: {" ".join(where[:3])}\nmsgid "{_po_escape(msgid)}"\nmsgstr ""\n')
        print(f"# {len(todo)} missing", file=sys.stderr)
        return 1 if todo else 0
    if argv[:1] == ["compile"]:
        print(compile_catalog())
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
