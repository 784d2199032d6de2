"""Import eligible households and children from CSV: plan against the fund, then apply.

Parsing and checking the file is :mod:`admin.csvimport` (no database). ``plan_import``
compares the rows with what the fund already holds and ``import_rows`` applies the
difference in one transaction; any error means nothing is written. Re-importing the same
file changes nothing and never issues a second budget.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from admin.funds import issuance
from admin.funds.csvimport import HOUSEHOLD_FIELDS, ImportRow, RowError, parse_csv
from admin.models import ImportRun
from kindpakket import time as clock
from kindpakket.audit import record_event
from ledger import store
from wallet.models import Child, Fund, Household, Voucher

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
    columns = [Household.id, Household.reference, Household.language] + [
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
    changed = tuple(n for n in row.fields() if known[n] != getattr(row, n))
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


# Tens of thousands of rows become objects; the collector's passes over them cost a seventh
# of the import's CPU, and nothing here makes a reference cycle.
@store.gc_paused()
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
    day = on or clock.today()  # the municipality's day, not the server's
    parsed = parse_csv(csv_bytes, reference_date=fund.reference_date, max_age=fund.max_age)
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
            "language": r.language,
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
