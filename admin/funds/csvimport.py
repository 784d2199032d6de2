"""Read and check a CSV file of eligible households and children; touches no database.

``parse_csv`` decodes the file, finds the columns (Dutch or English names), checks every
row and returns the rows plus errors with line, column, code and parameters (the words for
them are :mod:`admin.import_text`'s). :mod:`admin.importer` then plans and applies the rows.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from kindpakket.emails import is_email_address

# --------------------------------------------------------------------------- columns


@dataclass(frozen=True)
class Column:
    """One CSV column: English key, Dutch name, other accepted spellings, limits."""

    key: str
    dutch: str
    aliases: tuple[str, ...]
    required: bool
    max_len: int


COLUMNS: tuple[Column, ...] = (
    Column("household_ref", "huishouden_ref", ("household", "huishouden"), True, 64),
    Column("parent_name", "naam_ouder", ("parent", "ouder"), True, 160),
    Column("address", "adres", ("street", "straat"), True, 200),
    Column("postcode", "postcode", ("postal_code", "zip"), True, 16),
    Column("city", "woonplaats", ("plaats", "town"), True, 80),
    Column("email", "e_mail", ("e_mail_address", "emailadres", "e_mailadres"), False, 200),
    Column("phone", "telefoon", ("telephone", "telefoonnummer"), False, 40),
    Column("child_ref", "kind_ref", ("child", "kind"), True, 64),
    Column("child_first_name", "voornaam_kind", ("first_name", "voornaam"), True, 80),
    Column("birth_date", "geboortedatum", ("date_of_birth", "dob"), True, 10),
    Column("language", "taal", ("lang", "taalcode", "language_code"), False, 20),
)
BY_KEY = {c.key: c for c in COLUMNS}
_TEXT_COLUMNS = tuple(c for c in COLUMNS if c.key not in ("birth_date", "language"))
_LOOKUP = {name: c.key for c in COLUMNS for name in (c.key, c.dutch, *c.aliases)}
HOUSEHOLD_FIELDS = ("parent_name", "address", "postcode", "city", "email", "phone")
LANGUAGE_CODES = ("nl", "en", "tr", "ar", "pl", "uk")  # kindpakket.i18n.FAMILY_LANGUAGES
_LANGUAGE_WORDS = {  # the language's name in Dutch, English and itself, lower case
    "nl": ("nederlands", "dutch", "nl-nl", "nl_nl"),
    "en": ("engels", "english", "en-gb", "en_gb", "en-us", "en_us"),
    "tr": ("turks", "turkish", "türkçe", "turkce", "tr-tr", "tr_tr"),
    "ar": ("arabisch", "arabic", "العربية"),
    "pl": ("pools", "polish", "polski", "pl-pl", "pl_pl"),
    "uk": ("oekraïens", "oekraiens", "ukrainian", "українська", "uk-ua", "uk_ua"),
}
_LANGUAGES = {w: code for code, words in _LANGUAGE_WORDS.items() for w in (code, *words)}


def parse_language(text: str) -> str | None:
    """Return the code for "pl", "PL", "Pools", "Polish" or "Polski" (etc.), else None."""
    return _LANGUAGES.get(text.strip().lower())


@dataclass(frozen=True)
class RowError:
    """One problem in the file: line (1 = header; None = whole file), column, code, params.

    :mod:`admin.import_text` turns it into words.
    """

    line: int | None
    column: str | None
    code: str
    params: dict[str, Any] = field(default_factory=dict)


def column_name(key: str, language: str) -> str:
    """Return a column's header name in ``language`` (unknown keys as they are)."""
    column = BY_KEY.get(key)
    if column is None:
        return key
    return column.dutch if language == "nl" else column.key


@dataclass(slots=True)
class ImportRow:
    """One valid row of the file."""

    line: int
    household_ref: str
    parent_name: str
    address: str
    postcode: str
    city: str
    email: str | None
    phone: str | None
    child_ref: str
    child_first_name: str
    birth_date: date
    language: str | None = None  # None: no language named (or no language column)
    language_given: bool = False  # the file has a language column

    def fields(self) -> tuple[str, ...]:
        """Return the household fields this row speaks for (the language only when given)."""
        return (*HOUSEHOLD_FIELDS, "language") if self.language_given else HOUSEHOLD_FIELDS

    def household_values(self) -> dict[str, Any]:
        """Return the household fields of this row."""
        return {name: getattr(self, name) for name in self.fields()}


@dataclass
class ParseResult:
    """What ``parse_csv`` found: valid rows, errors, and the delimiter it chose."""

    rows: list[ImportRow]
    errors: list[RowError]
    delimiter: str
    line_count: int


# --------------------------------------------------------------------------- parsing

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DUTCH = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_PHONE = re.compile(r"^\+?[0-9 ()\-]{6,20}$")
_SEPARATORS = (";", ",", "\t")
_NL_POSTCODE = re.compile(r"^(\d{4})\s*([A-Za-z]{2})$")


def normalise_header(name: str) -> str:
    """Return a header cell as a lookup key: lower case, underscores for spaces and dashes."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def parse_date(text: str) -> date | None:
    """Return the date for "2019-03-01" or "01-03-2019" (also / or .), else None."""
    text = text.strip()
    if len(text) == 10 and text[4] == "-":
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    match = _ISO.match(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = _DUTCH.match(text)
        if not match:
            return None
        day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


_SEPARATOR_NAMES = {";": "';'", ",": "','", "\t": "tab"}


def sniff_delimiter(header_line: str) -> str:
    """Return ";" or "," (or a tab), whichever the header line uses most."""
    counts = {d: header_line.count(d) for d in (";", ",", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ";"


def decode(data: bytes) -> str | None:
    """Return the file as text without a BOM, or None when it cannot be read.

    Excel saves CSV as UTF-8 (with or without BOM), UTF-16 with a BOM ("Unicode text")
    or Windows-1252 ("CSV (door komma's gescheiden)"): tried in that order.
    """
    text: str | None = None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    else:
        for encoding in ("utf-8-sig", "cp1252"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    return None if text is None or "\x00" in text else text


def split_separator_line(text: str) -> tuple[str | None, str]:
    """Return the separator named by Excel's "sep=;" first line (or None) and the text after it."""
    first, newline, rest = text.partition("\n")
    match = re.fullmatch(r"sep=(.)", first.strip("\r"))
    if match and match.group(1) in _SEPARATORS and newline:
        return match.group(1), rest
    return None, text


def other_separator(cells: Sequence[str], delimiter: str, expected: int) -> str | None:
    """Return the separator a wrong-length row uses instead of ``delimiter``, or None."""
    line = delimiter.join(cells)
    for other in _SEPARATORS:
        if other != delimiter and len(next(csv.reader([line], delimiter=other))) == expected:
            return other
    return None


def parse_csv(
    data: bytes, *, reference_date: date, max_age: int | None = None, max_errors: int = 500
) -> ParseResult:
    """Decode, read and validate a CSV file; return valid rows and every error found.

    ``max_age``: the oldest a child may be on ``reference_date`` (None: no limit).
    """
    text = decode(data)
    if text is None:
        return ParseResult([], [RowError(None, None, "not_utf8")], ";", 0)
    named, text = split_separator_line(text)
    skipped = 0 if named is None else 1  # line numbers stay those of the file
    first_line = text.split("\n", 1)[0]
    delimiter = named or sniff_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if header is None or not any(cell.strip() for cell in header):
        return ParseResult([], [RowError(None, None, "empty_file")], delimiter, 0)
    keys, errors = _read_header(header, 1 + skipped)
    rows: list[ImportRow] = []
    if errors:
        return ParseResult(rows, errors, delimiter, 1)
    checker = _RowChecker(reference_date, max_age)
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue  # blank lines are allowed
        line = reader.line_num + skipped
        if len(cells) != len(keys):
            other = other_separator(cells, delimiter, len(keys))
            if other is not None:
                params = {"found": _SEPARATOR_NAMES[other], "expected": _SEPARATOR_NAMES[delimiter]}
                errors.append(RowError(line, None, "mixed_separator", params))
            else:
                params = {"found": len(cells), "expected": len(keys)}
                errors.append(RowError(line, None, "field_count", params))
            continue
        row, row_errors = checker.check(line, dict(zip(keys, cells, strict=True)))
        errors.extend(row_errors)
        if row is not None:
            rows.append(row)
        if len(errors) >= max_errors:
            break
    if not rows and not errors:
        errors.append(RowError(None, None, "empty_file"))
    return ParseResult(rows, errors, delimiter, reader.line_num + skipped)


def _read_header(header: Sequence[str], line: int = 1) -> tuple[list[str], list[RowError]]:
    """Map header cells to column keys; report unknown, doubled and missing columns."""
    keys: list[str] = []
    errors: list[RowError] = []
    for cell in header:
        key = _LOOKUP.get(normalise_header(cell))
        if key is None:
            errors.append(RowError(line, cell.strip(), "unknown_column", {"name": cell.strip()}))
            keys.append("")
        elif key in keys:
            errors.append(RowError(line, key, "duplicate_column"))
            keys.append("")
        else:
            keys.append(key)
    for column in COLUMNS:
        if column.required and column.key not in keys:
            errors.append(RowError(line, column.key, "missing_column"))
    return keys, errors


def _check_text(line: int, column: Column, values: dict[str, str]) -> RowError | None:
    """Return the first problem with one text field, or None."""
    value = values.get(column.key, "")
    if not value:
        return RowError(line, column.key, "missing_field") if column.required else None
    if len(value) > column.max_len:
        return RowError(line, column.key, "too_long", {"max": column.max_len})
    if column.key == "email" and not is_email_address(value):
        return RowError(line, column.key, "invalid_email")
    if column.key == "phone" and not _PHONE.match(value):
        return RowError(line, column.key, "invalid_phone")
    return None


class _RowChecker:
    """Validate rows one by one, remembering children and households seen earlier."""

    def __init__(self, reference_date: date, max_age: int | None = None) -> None:
        self.reference_date = reference_date
        self.max_age = max_age
        self.children: dict[str, int] = {}  # child_ref -> first line
        self.households: dict[str, ImportRow] = {}  # household_ref -> first row

    def check(self, line: int, raw: dict[str, str]) -> tuple[ImportRow | None, list[RowError]]:
        """Return the row (or None) and its errors."""
        values = {k: " ".join(v.split()) for k, v in raw.items() if k}
        errors = [e for c in _TEXT_COLUMNS if (e := _check_text(line, c, values)) is not None]
        birth = self._birth_date(line, values.get("birth_date", ""), errors)
        language = self._language(line, values, errors)
        if errors or birth is None:
            return None, errors
        row = ImportRow(
            line=line,
            household_ref=values["household_ref"],
            parent_name=values["parent_name"],
            address=values["address"],
            postcode=normalise_postcode(values["postcode"]),
            city=values["city"],
            email=values.get("email") or None,
            phone=values.get("phone") or None,
            child_ref=values["child_ref"],
            child_first_name=values["child_first_name"],
            birth_date=birth,
            language=language,
            language_given="language" in values,
        )
        return self._check_across_rows(row)

    @staticmethod
    def _language(line: int, values: dict[str, str], errors: list[RowError]) -> str | None:
        """Return the row's language code (None when empty), or None after adding its problem."""
        value = values.get("language", "")
        if not value:
            return None
        code = parse_language(value)
        if code is None:
            params = {"value": value[:40], "allowed": ", ".join(LANGUAGE_CODES)}
            errors.append(RowError(line, "language", "unknown_language", params))
        return code

    def _birth_date(self, line: int, value: str, errors: list[RowError]) -> date | None:
        """Return the birth date, or None after adding its problem to ``errors``."""
        if not value:
            errors.append(RowError(line, "birth_date", "missing_field"))
            return None
        born = parse_date(value)
        if born is None:
            errors.append(RowError(line, "birth_date", "invalid_date"))
        elif born > self.reference_date:
            params = {"ref": self.reference_date.isoformat()}
            errors.append(RowError(line, "birth_date", "born_after_reference_date", params))
            return None
        elif self.max_age is not None and age_on(born, self.reference_date) > self.max_age:
            age = age_on(born, self.reference_date)
            params = {"age": age, "max": self.max_age, "ref": self.reference_date.isoformat()}
            errors.append(RowError(line, "birth_date", "too_old", params))
            return None
        return born

    def _check_across_rows(self, row: ImportRow) -> tuple[ImportRow | None, list[RowError]]:
        """Refuse a child seen before and a household whose details differ between rows."""
        first = self.children.get(row.child_ref)
        if first is not None:
            params = {"ref": row.child_ref, "first": first}
            return None, [RowError(row.line, "child_ref", "duplicate_child", params)]
        self.children[row.child_ref] = row.line
        earlier = self.households.setdefault(row.household_ref, row)
        for name in row.fields():
            if getattr(earlier, name) != getattr(row, name):
                return None, [
                    RowError(row.line, name, "household_conflict", {"first": earlier.line})
                ]
        return row, []


def age_on(born: date, day: date) -> int:
    """Return the age in whole years on ``day`` of someone born on ``born``."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def normalise_postcode(text: str) -> str:
    """Write a Dutch postcode as "1234 AB"; leave other postcodes as they are."""
    match = _NL_POSTCODE.match(text.strip())
    return f"{match.group(1)} {match.group(2).upper()}" if match else text.strip()
