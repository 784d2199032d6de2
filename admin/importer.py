"""Import eligible households and children from CSV: pure parse and validation first, then apply.

The first half (``parse_csv``) touches no database: it decodes the file, finds the columns,
checks every row and returns rows plus errors (line, column, code, Dutch and English text).
The second half (``plan_import``, ``import_rows``) compares the rows with what the fund
already holds and applies the difference in one transaction; any error means nothing is
written. Re-importing the same file changes nothing and never issues a second budget.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from admin import issuance
from admin.models import ImportRun
from kindpakket.audit import record_event
from ledger import store
from wallet.models import Child, Fund, Household, Voucher

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
)
BY_KEY = {c.key: c for c in COLUMNS}
_TEXT_COLUMNS = tuple(c for c in COLUMNS if c.key != "birth_date")
_LOOKUP = {name: c.key for c in COLUMNS for name in (c.key, c.dutch, *c.aliases)}
HOUSEHOLD_FIELDS = ("parent_name", "address", "postcode", "city", "email", "phone")

# code -> (English, Dutch); {placeholders} come from RowError.params.
MESSAGES: dict[str, tuple[str, str]] = {
    "not_utf8": ("the file is not UTF-8 text", "het bestand is geen UTF-8-tekst"),
    "empty_file": ("the file has no rows", "het bestand heeft geen regels"),
    "unknown_column": ("unknown column {name!r}", "onbekende kolom {name!r}"),
    "duplicate_column": ("column appears twice", "kolom staat er twee keer in"),
    "missing_column": ("required column is missing", "verplichte kolom ontbreekt"),
    "field_count": (
        "{found} fields, expected {expected}",
        "{found} velden, verwacht {expected}",
    ),
    "missing_field": ("required field is empty", "verplicht veld is leeg"),
    "too_long": ("longer than {max} characters", "langer dan {max} tekens"),
    "invalid_date": (
        "invalid date (use YYYY-MM-DD or DD-MM-YYYY)",
        "ongeldige datum (gebruik JJJJ-MM-DD of DD-MM-JJJJ)",
    ),
    "born_after_reference_date": (
        "child born after the reference date {ref}",
        "kind geboren na de peildatum {ref}",
    ),
    "invalid_email": ("invalid e-mail address", "ongeldig e-mailadres"),
    "invalid_phone": ("invalid phone number", "ongeldig telefoonnummer"),
    "duplicate_child": (
        "child {ref!r} is already on line {first}",
        "kind {ref!r} staat al op regel {first}",
    ),
    "household_conflict": (
        "differs from line {first} of the same household",
        "wijkt af van regel {first} van hetzelfde huishouden",
    ),
    "child_in_other_household": (
        "child {ref!r} belongs to household {known!r}; moving is not supported",
        "kind {ref!r} hoort bij huishouden {known!r}; verhuizen kan niet via import",
    ),
    "fund_balance_too_low": (
        "the fund holds {available}; this import needs {needed}",
        "het fonds bevat {available}; deze import heeft {needed} nodig",
    ),
    "fund_closed": ("the fund is closed", "het fonds is gesloten"),
}


@dataclass(frozen=True)
class RowError:
    """One problem in the file: line (1 = header; None = whole file), column, code."""

    line: int | None
    column: str | None
    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def message(self, language: str = "nl") -> str:
        """Return the reason alone, in Dutch or English."""
        english, dutch = MESSAGES[self.code]
        return (dutch if language == "nl" else english).format(**self.params)

    def text(self, language: str = "nl") -> str:
        """Return "regel 4, kolom geboortedatum: ongeldige datum" (or English)."""
        where: list[str] = []
        if self.line is not None:
            where.append(f"{'regel' if language == 'nl' else 'line'} {self.line}")
        if self.column is not None:
            name = column_name(self.column, language)
            where.append(f"{'kolom' if language == 'nl' else 'column'} {name}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message(language)}" if prefix else self.message(language)

    def both(self) -> str:
        """Return the Dutch and English text joined by " / " (CLI output)."""
        return f"{self.text('nl')} / {self.text('en')}"


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

    def household_values(self) -> dict[str, Any]:
        """Return the household fields of this row."""
        return {name: getattr(self, name) for name in HOUSEHOLD_FIELDS}


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
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()\-]{6,20}$")
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


def sniff_delimiter(header_line: str) -> str:
    """Return ";" or "," (or a tab), whichever the header line uses most."""
    counts = {d: header_line.count(d) for d in (";", ",", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ";"


def decode(data: bytes) -> str | None:
    """Return the file as text without a BOM, or None when it is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def parse_csv(data: bytes, *, reference_date: date, max_errors: int = 500) -> ParseResult:
    """Decode, read and validate a CSV file; return valid rows and every error found."""
    text = decode(data)
    if text is None:
        return ParseResult([], [RowError(None, None, "not_utf8")], ";", 0)
    first_line = text.split("\n", 1)[0]
    delimiter = sniff_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if header is None or not any(cell.strip() for cell in header):
        return ParseResult([], [RowError(None, None, "empty_file")], delimiter, 0)
    keys, errors = _read_header(header)
    rows: list[ImportRow] = []
    if errors:
        return ParseResult(rows, errors, delimiter, 1)
    checker = _RowChecker(reference_date)
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue  # blank lines are allowed
        line = reader.line_num
        if len(cells) != len(keys):
            errors.append(
                RowError(line, None, "field_count", {"found": len(cells), "expected": len(keys)})
            )
            continue
        row, row_errors = checker.check(line, dict(zip(keys, cells, strict=True)))
        errors.extend(row_errors)
        if row is not None:
            rows.append(row)
        if len(errors) >= max_errors:
            break
    if not rows and not errors:
        errors.append(RowError(None, None, "empty_file"))
    return ParseResult(rows, errors, delimiter, reader.line_num)


def _read_header(header: Sequence[str]) -> tuple[list[str], list[RowError]]:
    """Map header cells to column keys; report unknown, doubled and missing columns."""
    keys: list[str] = []
    errors: list[RowError] = []
    for cell in header:
        key = _LOOKUP.get(normalise_header(cell))
        if key is None:
            errors.append(RowError(1, cell.strip(), "unknown_column", {"name": cell.strip()}))
            keys.append("")
        elif key in keys:
            errors.append(RowError(1, key, "duplicate_column"))
            keys.append("")
        else:
            keys.append(key)
    for column in COLUMNS:
        if column.required and column.key not in keys:
            errors.append(RowError(1, column.key, "missing_column"))
    return keys, errors


def _check_text(line: int, column: Column, values: dict[str, str]) -> RowError | None:
    """Return the first problem with one text field, or None."""
    value = values.get(column.key, "")
    if not value:
        return RowError(line, column.key, "missing_field") if column.required else None
    if len(value) > column.max_len:
        return RowError(line, column.key, "too_long", {"max": column.max_len})
    if column.key == "email" and not _EMAIL.match(value):
        return RowError(line, column.key, "invalid_email")
    if column.key == "phone" and not _PHONE.match(value):
        return RowError(line, column.key, "invalid_phone")
    return None


class _RowChecker:
    """Validate rows one by one, remembering children and households seen earlier."""

    def __init__(self, reference_date: date) -> None:
        self.reference_date = reference_date
        self.children: dict[str, int] = {}  # child_ref -> first line
        self.households: dict[str, ImportRow] = {}  # household_ref -> first row

    def check(self, line: int, raw: dict[str, str]) -> tuple[ImportRow | None, list[RowError]]:
        """Return the row (or None) and its errors."""
        values = {k: " ".join(v.split()) for k, v in raw.items() if k}
        errors = [e for c in _TEXT_COLUMNS if (e := _check_text(line, c, values)) is not None]
        birth = self._birth_date(line, values.get("birth_date", ""), errors)
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
        )
        return self._check_across_rows(row)

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
        return born

    def _check_across_rows(self, row: ImportRow) -> tuple[ImportRow | None, list[RowError]]:
        """Refuse a child seen before and a household whose details differ between rows."""
        first = self.children.get(row.child_ref)
        if first is not None:
            params = {"ref": row.child_ref, "first": first}
            return None, [RowError(row.line, "child_ref", "duplicate_child", params)]
        self.children[row.child_ref] = row.line
        earlier = self.households.setdefault(row.household_ref, row)
        for name in HOUSEHOLD_FIELDS:
            if getattr(earlier, name) != getattr(row, name):
                return None, [
                    RowError(row.line, name, "household_conflict", {"first": earlier.line})
                ]
        return row, []


def normalise_postcode(text: str) -> str:
    """Write a Dutch postcode as "1234 AB"; leave other postcodes as they are."""
    match = _NL_POSTCODE.match(text.strip())
    return f"{match.group(1)} {match.group(2).upper()}" if match else text.strip()


# --------------------------------------------------------------------------- planning


@dataclass(frozen=True)
class Change:
    """One planned change, for the preview: what happens to which child or household."""

    line: int
    kind: str  # new_child | updated_child | new_household | updated_household | returned
    household_ref: str
    child_ref: str | None
    fields: tuple[str, ...] = ()
    amount_cents: int = 0


@dataclass
class ImportPlan:
    """The difference between a valid file and what the fund already holds."""

    rows: list[ImportRow]
    new_households: list[ImportRow] = field(default_factory=list)
    updated_households: list[tuple[int, ImportRow, tuple[str, ...]]] = field(default_factory=list)
    new_children: list[tuple[ImportRow, int]] = field(default_factory=list)
    updated_children: list[tuple[int, ImportRow, tuple[str, ...]]] = field(default_factory=list)
    returned_children: list[int] = field(default_factory=list)
    unfunded_children: list[tuple[int, int]] = field(default_factory=list)  # (child id, cents)
    missing_children: list[tuple[int, str, str]] = field(default_factory=list)  # id, ref, hh ref
    errors: list[RowError] = field(default_factory=list)

    @property
    def issue_cents(self) -> int:
        """Return what issuing this plan takes from the fund."""
        return sum(a for _, a in self.new_children) + sum(a for _, a in self.unfunded_children)


@dataclass
class ImportSummary:
    """The outcome of ``import_rows`` (also of a dry run): counts, changes, errors."""

    rows: int
    households: int
    children: int
    households_new: int = 0
    households_updated: int = 0
    children_new: int = 0
    children_updated: int = 0
    children_missing: list[str] = field(default_factory=list)
    issued_cents: int = 0
    changes: list[Change] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = True
    import_run_id: int | None = None
    sha256: str = ""

    @property
    def ok(self) -> bool:
        """Return True when the file had no errors."""
        return not self.errors

    @property
    def imported(self) -> bool:
        """Return True when the changes were written."""
        return self.ok and not self.dry_run


def plan_import(session: Session, fund: Fund, rows: Sequence[ImportRow], *, on: date) -> ImportPlan:
    """Compare valid rows with the fund's households and children; nothing is written."""
    plan = ImportPlan(rows=list(rows))
    households = _known_households(session, fund)
    children = _known_children(session, fund)
    seen_households: set[str] = set()
    for row in rows:
        if row.household_ref not in seen_households:
            seen_households.add(row.household_ref)
            _plan_household(plan, households.get(row.household_ref), row)
        _plan_child(plan, fund, children.get(row.child_ref), row, on)
    in_file = {row.child_ref for row in rows}
    plan.missing_children = sorted(
        (known["id"], ref, known["household_ref"])
        for ref, known in children.items()
        if ref not in in_file
    )
    _check_fund(session, fund, plan)
    return plan


def _known_households(session: Session, fund: Fund) -> dict[str, dict[str, Any]]:
    """Return the fund's households by reference, as plain dicts."""
    columns = [Household.id, Household.reference] + [
        getattr(Household, n) for n in HOUSEHOLD_FIELDS
    ]
    result = session.execute(select(*columns).where(Household.fund_id == fund.id))
    return {r.reference: dict(r._mapping) for r in result}


def _known_children(session: Session, fund: Fund) -> dict[str, dict[str, Any]]:
    """Return the fund's children by reference with household reference and voucher id."""
    result = session.execute(
        select(
            Child.id,
            Child.reference,
            Child.first_name,
            Child.birth_date,
            Child.in_latest_import,
            Household.reference.label("household_ref"),
            Voucher.id.label("voucher_id"),
        )
        .join(Household, Household.id == Child.household_id)
        .outerjoin(Voucher, Voucher.child_id == Child.id)
        .where(Child.fund_id == fund.id)
    )
    return {r.reference: dict(r._mapping) for r in result}


def _plan_household(plan: ImportPlan, known: dict[str, Any] | None, row: ImportRow) -> None:
    """Plan a new household or the fields of a known one that changed."""
    if known is None:
        plan.new_households.append(row)
        return
    changed = tuple(n for n in HOUSEHOLD_FIELDS if known[n] != getattr(row, n))
    if changed:
        plan.updated_households.append((known["id"], row, changed))


def _plan_child(
    plan: ImportPlan, fund: Fund, known: dict[str, Any] | None, row: ImportRow, on: date
) -> None:
    """Plan a new child with its budget, or the changes to a known one (never a 2nd budget)."""
    if known is None:
        plan.new_children.append((row, issuance.budget_for(fund, row.birth_date, on)))
        return
    if known["household_ref"] != row.household_ref:
        params = {"ref": row.child_ref, "known": known["household_ref"]}
        plan.errors.append(RowError(row.line, "child_ref", "child_in_other_household", params))
        return
    changed = tuple(
        name
        for name, old in (
            ("child_first_name", known["first_name"]),
            ("birth_date", known["birth_date"]),
        )
        if old != getattr(row, name)
    )
    if changed:
        plan.updated_children.append((known["id"], row, changed))
    if not known["in_latest_import"]:
        plan.returned_children.append(known["id"])
    if known["voucher_id"] is None:
        plan.unfunded_children.append((known["id"], issuance.budget_for(fund, row.birth_date, on)))


def _check_fund(session: Session, fund: Fund, plan: ImportPlan) -> None:
    """Refuse an import into a closed fund or one without enough money left."""
    from kindpakket.money import format_euro

    if fund.status != "open":
        plan.errors.append(RowError(None, None, "fund_closed"))
        return
    needed = plan.issue_cents
    available = store.balance(session, fund.account)
    if needed > available:
        params = {"available": format_euro(available), "needed": format_euro(needed)}
        plan.errors.append(RowError(None, None, "fund_balance_too_low", params))


# --------------------------------------------------------------------------- applying

Progress = Callable[[str, int, int], None]  # (phase, done, total)
_households = cast(Table, Household.__table__)
_children = cast(Table, Child.__table__)


def import_rows(
    session: Session,
    fund: Fund,
    csv_bytes: bytes,
    *,
    actor: str,
    dry_run: bool = False,
    filename: str = "import.csv",
    on: date | None = None,
    progress: Progress | None = None,
    tenant_ip: str | None = None,
) -> ImportSummary:
    """Validate a CSV file and (unless ``dry_run`` or any error) import and issue budgets.

    Returns the summary; when it has errors nothing was written.
    """
    day = on or date.today()
    parsed = parse_csv(csv_bytes, reference_date=fund.reference_date)
    sha = hashlib.sha256(csv_bytes).hexdigest()
    if parsed.errors:
        return _summary(ImportPlan(rows=parsed.rows, errors=parsed.errors), sha, dry_run=True)
    plan = plan_import(session, fund, parsed.rows, on=day)
    summary = _summary(plan, sha, dry_run=dry_run or bool(plan.errors))
    if summary.dry_run:
        return summary
    run = _record_run(session, fund, plan, summary, filename=filename, actor=actor)
    apply_plan(session, fund, plan, import_run=run.id, actor=actor, progress=progress)
    summary.import_run_id = run.id
    record_event(
        session,
        "fund.children_imported",
        actor=actor,
        subject=f"fund:{fund.id}",
        tenant_id=fund.municipality_id,
        after={
            "import_run": run.id,
            "sha256": sha,
            "households_new": summary.households_new,
            "children_new": summary.children_new,
            "children_updated": summary.children_updated,
            "children_missing": len(summary.children_missing),
            "issued_cents": summary.issued_cents,
        },
        ip=tenant_ip,
    )
    return summary


def _summary(plan: ImportPlan, sha: str, *, dry_run: bool) -> ImportSummary:
    """Summarise a plan: counts, the list of changes for the preview, and errors."""
    changes = [Change(r.line, "new_household", r.household_ref, None) for r in plan.new_households]
    changes += [
        Change(r.line, "updated_household", r.household_ref, None, f)
        for _, r, f in plan.updated_households
    ]
    changes += [
        Change(r.line, "new_child", r.household_ref, r.child_ref, (), a)
        for r, a in plan.new_children
    ]
    changes += [
        Change(r.line, "updated_child", r.household_ref, r.child_ref, f)
        for _, r, f in plan.updated_children
    ]
    changes.sort(key=lambda c: c.line)
    return ImportSummary(
        rows=len(plan.rows),
        households=len({r.household_ref for r in plan.rows}),
        children=len(plan.rows),
        households_new=len(plan.new_households),
        households_updated=len(plan.updated_households),
        children_new=len(plan.new_children),
        children_updated=len(plan.updated_children),
        children_missing=[ref for _, ref, _ in plan.missing_children],
        issued_cents=plan.issue_cents if not plan.errors else 0,
        changes=changes,
        errors=sorted(plan.errors, key=lambda e: (e.line or 0, e.column or "")),
        dry_run=dry_run,
        sha256=sha,
    )


def _record_run(
    session: Session, fund: Fund, plan: ImportPlan, summary: ImportSummary, **kw: str
) -> ImportRun:
    """Store the import run with its counts."""
    run = ImportRun(
        fund_id=fund.id,
        filename=kw["filename"][:200],
        sha256=summary.sha256,
        rows=summary.rows,
        households_new=summary.households_new,
        children_new=summary.children_new,
        children_updated=summary.children_updated,
        children_missing=len(summary.children_missing),
        issued_cents=summary.issued_cents,
        actor=kw["actor"][:80],
        created_at=datetime.now(UTC),
    )
    session.add(run)
    session.flush()  # the run's id goes into the ledger entries' metadata
    return run


def apply_plan(
    session: Session,
    fund: Fund,
    plan: ImportPlan,
    *,
    import_run: int | None,
    actor: str,
    progress: Progress | None = None,
) -> list[int]:
    """Write a plan without errors: households, children, flags, then one budget per new child.

    Returns the ids of the vouchers issued.
    """
    now = datetime.now(UTC)
    household_ids = _insert_households(session, fund, plan.new_households, now)
    _update_households(session, plan.updated_households, now)
    wanted = {r.household_ref for r, _ in plan.new_children} - household_ids.keys()
    household_ids.update(_household_ids(session, fund, wanted))
    child_ids = _insert_children(session, fund, plan.new_children, household_ids, now)
    _update_children(session, plan, now)
    grants = [(child_ids[row.child_ref], amount) for row, amount in plan.new_children]
    grants += plan.unfunded_children
    return issuance.issue_budgets(
        session, fund, grants, actor=actor, import_run=import_run, progress=progress
    )


def _insert_households(
    session: Session, fund: Fund, rows: Iterable[ImportRow], now: datetime
) -> dict[str, int]:
    """Insert new households in bulk and return their ids by reference."""
    values = [
        {
            "fund_id": fund.id,
            "reference": r.household_ref,
            **r.household_values(),
            "pin_failures": 0,
            "created_at": now,
            "updated_at": now,
        }
        for r in rows
    ]
    if not values:
        return {}
    store.insert_table_rows(session.connection(), _households, values)  # COPY on PostgreSQL
    return _household_ids(session, fund, {r.household_ref for r in rows})


def _household_ids(session: Session, fund: Fund, references: set[str]) -> dict[str, int]:
    """Return the ids of the fund's households with these references."""
    if not references:
        return {}
    result = session.execute(
        select(Household.reference, Household.id).where(Household.fund_id == fund.id)
    )
    return {str(r[0]): int(r[1]) for r in result if r[0] in references}


def _update_households(
    session: Session, updates: Sequence[tuple[int, ImportRow, tuple[str, ...]]], now: datetime
) -> None:
    """Write changed names and addresses of known households."""
    if updates:
        session.execute(
            update(Household),
            [{"id": i, **r.household_values(), "updated_at": now} for i, r, _ in updates],
        )


def _insert_children(
    session: Session,
    fund: Fund,
    new: Sequence[tuple[ImportRow, int]],
    household_ids: dict[str, int],
    now: datetime,
) -> dict[str, int]:
    """Insert new children in bulk and return their ids by reference."""
    values = [
        {
            "fund_id": fund.id,
            "household_id": household_ids[r.household_ref],
            "reference": r.child_ref,
            "first_name": r.child_first_name,
            "birth_date": r.birth_date,
            "in_latest_import": True,
            "created_at": now,
            "updated_at": now,
        }
        for r, _ in new
    ]
    if not values:
        return {}
    store.insert_table_rows(session.connection(), _children, values)  # COPY on PostgreSQL
    wanted = {r.child_ref for r, _ in new}
    result = session.execute(select(Child.reference, Child.id).where(Child.fund_id == fund.id))
    return {str(r[0]): int(r[1]) for r in result if r[0] in wanted}


def _update_children(session: Session, plan: ImportPlan, now: datetime) -> None:
    """Write changed names and birth dates, and who is (again, or no longer) in the file."""
    rows: dict[int, dict[str, Any]] = {}
    for child_id, row, _ in plan.updated_children:
        rows[child_id] = {
            "id": child_id,
            "first_name": row.child_first_name,
            "birth_date": row.birth_date,
            "updated_at": now,
        }
    for child_id in plan.returned_children:
        rows.setdefault(child_id, {"id": child_id, "updated_at": now})["in_latest_import"] = True
    for child_id, _, _ in plan.missing_children:
        rows[child_id] = {"id": child_id, "in_latest_import": False, "updated_at": now}
    by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for values in rows.values():
        by_shape.setdefault(tuple(sorted(values)), []).append(values)
    for batch in by_shape.values():
        session.execute(update(Child), batch)
