"""CSV import of eligible children: parsing, every kind of bad row, re-imports, issuance."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from admin.funds import csvimport, import_text, importer, issuance
from admin.funds import services as funds
from admin.models import ImportRun
from kindpakket.audit import AuditEvent
from kindpakket.outbox import OutboxMessage
from ledger import store
from ledger.models import LedgerEntry
from tests.admin.conftest import FIRST_ROWS, HEADER, START, World, csv_bytes, row
from wallet.models import Child, Fund, Household, Voucher

REF = date(2026, 1, 1)


def parse(data: bytes) -> csvimport.ParseResult:
    return csvimport.parse_csv(data, reference_date=REF)


def codes(result: csvimport.ParseResult) -> list[tuple[int | None, str | None, str]]:
    return [(e.line, e.column, e.code) for e in result.errors]


# --------------------------------------------------------------------------- parsing


def test_valid_file_with_dutch_header_bom_and_both_date_forms() -> None:
    data = csv_bytes(
        [
            row(child="K-1", born="2016-03-14"),
            row(child="K-2", first_name="Daan", born="01-02-2018"),
        ],
        bom=True,
    )
    result = parse(data)
    assert result.errors == []
    assert result.delimiter == ";"
    assert [(r.child_ref, r.birth_date) for r in result.rows] == [
        ("K-1", date(2016, 3, 14)),
        ("K-2", date(2018, 2, 1)),
    ]
    assert result.rows[0].postcode == "9801 AA" and result.rows[0].email is None


def test_english_header_with_commas_in_any_order() -> None:
    header = "child_ref,child_first_name,birth_date,household_ref,parent_name,address,postcode,city"
    data = (
        b"\xef\xbb\xbf"
        + (
            f'{header}\r\nK-9,Sem,2019-07-01,H-9,"Jansen, P.",Kerkstraat 2,9801ab,Zuidhorn\r\n'
        ).encode()
    )
    result = parse(data)
    assert result.errors == [] and result.delimiter == ","
    only = result.rows[0]
    assert (only.parent_name, only.postcode, only.child_first_name) == (
        "Jansen, P.",
        "9801 AB",
        "Sem",
    )


@pytest.mark.parametrize(
    ("lines", "header", "expected"),
    [
        ([row(born="2016-13-01")], HEADER, (2, "birth_date", "invalid_date")),
        ([row(born="31-02-2016")], HEADER, (2, "birth_date", "invalid_date")),
        ([row(born="gisteren")], HEADER, (2, "birth_date", "invalid_date")),
        ([row(first_name="")], HEADER, (2, "child_first_name", "missing_field")),
        ([row(household="")], HEADER, (2, "household_ref", "missing_field")),
        ([row(born="2026-01-02")], HEADER, (2, "birth_date", "born_after_reference_date")),
        ([row(email="geen-adres")], HEADER, (2, "email", "invalid_email")),
        ([row(first_name="A" * 81)], HEADER, (2, "child_first_name", "too_long")),
        ([row() + ";extra"], HEADER, (2, None, "field_count")),
        ([row()], HEADER + ";schoenmaat", (1, "schoenmaat", "unknown_column")),
        (
            [row()],
            HEADER.replace("geboortedatum", "voornaam_kind"),
            (1, "child_first_name", "duplicate_column"),
        ),
    ],
)
def test_each_kind_of_bad_row_is_reported_with_line_and_column(
    lines: list[str], header: str, expected: tuple[int, str | None, str]
) -> None:
    result = parse(csv_bytes(lines, header=header))
    assert expected in codes(result)


def test_missing_required_column_is_reported() -> None:
    header = HEADER.replace(";geboortedatum", "")
    lines = [row().rsplit(";", 1)[0]]
    assert (1, "birth_date", "missing_column") in codes(parse(csv_bytes(lines, header=header)))


def test_not_utf8_and_empty_files() -> None:
    assert codes(parse(HEADER.encode() + b"\nH;Zo\x81\x8d")) == [(None, None, "not_utf8")]
    assert codes(parse(b"")) == [(None, None, "empty_file")]
    assert codes(parse(HEADER.encode() + b"\n\n")) == [(None, None, "empty_file")]


def test_duplicate_rows_and_conflicting_household_details() -> None:
    lines = [
        row(child="K-1"),
        row(child="K-1"),  # the same line twice
        row(child="K-2", address="Anderestraat 9"),  # same household, other address
    ]
    result = parse(csv_bytes(lines))
    assert codes(result) == [
        (3, "child_ref", "duplicate_child"),
        (4, "address", "household_conflict"),
    ]
    assert result.errors[0].params["first"] == 2
    assert [r.child_ref for r in result.rows] == ["K-1"]


def test_error_text_in_dutch_and_english(words: None) -> None:
    error = parse(csv_bytes(["", row(born="2016-02-30")])).errors[0]
    assert error.line == 3  # blank lines count: the line number is the line in the file
    assert import_text.in_language(error, "nl") == (
        "regel 3, kolom geboortedatum: ongeldige datum (gebruik JJJJ-MM-DD of DD-MM-JJJJ)"
    )
    assert import_text.in_language(error, "en") == (
        "line 3, column birth_date: invalid date (use YYYY-MM-DD or DD-MM-YYYY)"
    )


# --------------------------------------------------------------------------- budgets


def _fund(**kw: object) -> Fund:
    values: dict[str, object] = {
        "budget_cents": 30_000,
        "reference_date": date(2026, 1, 1),
        "period_start": date(2026, 1, 1),
        "period_end": date(2026, 12, 31),
        "age_bands": [],
        "pro_rata": False,
    }
    values.update(kw)
    return Fund(**values)


def test_budget_by_age_band_on_reference_date() -> None:
    bands = [
        {"min_age": 0, "max_age": 11, "budget_cents": 25_000},
        {"min_age": 12, "max_age": 17, "budget_cents": 40_000},
    ]
    fund = _fund(age_bands=bands)
    on = date(2026, 1, 1)
    assert issuance.budget_for(fund, date(2014, 1, 2), on) == 25_000  # 11 on 1 January
    assert issuance.budget_for(fund, date(2014, 1, 1), on) == 40_000  # 12 that day
    assert issuance.budget_for(fund, date(2000, 1, 1), on) == 30_000  # no band: default


def test_pro_rata_for_children_added_during_the_period() -> None:
    fund = _fund(pro_rata=True, period_end=date(2026, 4, 10))  # 100 days
    assert issuance.budget_for(fund, date(2016, 1, 1), date(2025, 12, 1)) == 30_000
    assert issuance.budget_for(fund, date(2016, 1, 1), date(2026, 1, 1)) == 30_000
    assert issuance.budget_for(fund, date(2016, 1, 1), date(2026, 2, 20)) == 15_000  # 50 left
    assert issuance.budget_for(_fund(), date(2016, 1, 1), date(2026, 2, 20)) == 30_000


# --------------------------------------------------------------------------- applying


def _import(engine: Engine, world: World, data: bytes, **kw: object) -> importer.ImportSummary:
    with Session(engine) as s:
        fund = s.get(Fund, world.fund_id)
        assert fund is not None
        summary = importer.import_rows(s, fund, data, actor="test", **kw)  # type: ignore[arg-type]
        s.commit()
        return summary


def _count(engine: Engine, model: type) -> int:
    with Session(engine) as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def _voucher_balances(engine: Engine, world: World) -> dict[str, int]:
    with Session(engine) as s:
        rows = s.execute(
            select(Child.reference, Voucher.id)
            .join(Voucher, Voucher.child_id == Child.id)
            .where(Child.fund_id == world.fund_id)
        ).all()
        money = store.balances(s, [f"voucher:{v}" for _, v in rows])
        return {ref: money[f"voucher:{v}"] for ref, v in rows}


FIRST = FIRST_ROWS


def test_valid_file_imports_households_children_and_issues_budgets(
    engine: Engine, world: World
) -> None:
    summary = _import(engine, world, csv_bytes(FIRST), filename="eerste.csv")
    assert summary.imported and summary.errors == []
    assert (summary.households, summary.children, summary.issued_cents) == (2, 3, 90_000)
    assert _voucher_balances(engine, world) == {"K-1": 30_000, "K-2": 30_000, "K-3": 30_000}
    with Session(engine) as s:
        fund = s.get(Fund, world.fund_id)
        assert fund is not None
        assert store.balance(s, fund.account) == 10_000_000 - 90_000
        run = s.execute(select(ImportRun)).scalar_one()
        assert (run.filename, run.children_new, run.issued_cents) == ("eerste.csv", 3, 90_000)
        issues = s.execute(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "voucher.issue")
        ).scalar_one()
        assert issues == 3
        event = s.execute(
            select(AuditEvent).where(AuditEvent.name == "fund.children_imported")
        ).scalar_one()
        assert event.after is not None and event.after["children_new"] == 3
        assert store.verify(s).ok


def test_dry_run_writes_nothing(engine: Engine, world: World) -> None:
    summary = _import(engine, world, csv_bytes(FIRST), dry_run=True)
    assert summary.ok and summary.dry_run and summary.children_new == 3
    assert summary.issued_cents == 90_000
    assert _count(engine, Household) == 0 and _count(engine, ImportRun) == 0


def test_file_with_one_bad_row_imports_nothing(engine: Engine, world: World) -> None:
    entries_before = _count(engine, LedgerEntry)
    lines = [*FIRST, row("H-3", "K-4", "Lotte", "2017-02-29")]  # 2017 has no 29 February
    summary = _import(engine, world, csv_bytes(lines))
    assert not summary.imported
    assert [(e.line, e.column, e.code) for e in summary.errors] == [
        (5, "birth_date", "invalid_date")
    ]
    assert _count(engine, Household) == 0 and _count(engine, Child) == 0
    assert _count(engine, LedgerEntry) == entries_before


def test_reimport_same_file_changes_nothing_and_issues_no_second_budget(
    engine: Engine, world: World
) -> None:
    _import(engine, world, csv_bytes(FIRST))
    entries = _count(engine, LedgerEntry)
    again = _import(engine, world, csv_bytes(FIRST, delimiter=",", bom=True))
    assert again.imported
    assert (again.children_new, again.children_updated, again.issued_cents) == (0, 0, 0)
    assert again.changes == [] and again.children_missing == []
    assert _count(engine, LedgerEntry) == entries
    assert _count(engine, Voucher) == 3


def test_reimport_with_changes_new_child_and_missing_child(engine: Engine, world: World) -> None:
    _import(engine, world, csv_bytes(FIRST))
    later = [
        row("H-1", "K-1", "Anouk", "2016-03-14", address="Nieuwe Weg 5"),  # moved house
        row("H-1", "K-2", "Daniël", "2018-02-01", address="Nieuwe Weg 5"),  # name corrected
        row("H-1", "K-5", "Mila", "2025-06-01", address="Nieuwe Weg 5"),  # new baby
        # K-3 (household H-2) is missing from this file
    ]
    summary = _import(engine, world, csv_bytes(later))
    assert summary.imported
    assert (summary.households_new, summary.households_updated) == (0, 1)
    assert (summary.children_new, summary.children_updated) == (1, 1)
    assert summary.children_missing == ["K-3"]
    assert summary.issued_cents == 30_000
    kinds = {(c.kind, c.child_ref, c.fields) for c in summary.changes}
    assert ("updated_household", None, ("address",)) in kinds
    assert ("updated_child", "K-2", ("child_first_name",)) in kinds
    assert ("new_child", "K-5", ()) in kinds
    assert _voucher_balances(engine, world) == {
        "K-1": 30_000,
        "K-2": 30_000,
        "K-3": 30_000,
        "K-5": 30_000,
    }
    with Session(engine) as s:
        h1 = s.execute(select(Household).where(Household.reference == "H-1")).scalar_one()
        assert h1.address == "Nieuwe Weg 5"
        by_ref = {c.reference: c for c in s.execute(select(Child)).scalars()}
        assert by_ref["K-2"].first_name == "Daniël"
        assert by_ref["K-3"].in_latest_import is False  # reported, not deleted
        assert by_ref["K-5"].household_id == h1.id
    back = _import(engine, world, csv_bytes(FIRST))  # K-3 returns, K-5 is now missing
    assert back.children_missing == ["K-5"] and back.children_new == 0
    with Session(engine) as s:
        k3 = s.execute(select(Child).where(Child.reference == "K-3")).scalar_one()
        assert k3.in_latest_import is True


def test_child_moved_to_another_household_is_refused(
    engine: Engine, world: World, words: None
) -> None:
    _import(engine, world, csv_bytes(FIRST))
    moved = [row("H-2", "K-1", "Anouk", "2016-03-14", parent="P. Jansen", address="Kerkstraat 2")]
    summary = _import(engine, world, csv_bytes(moved))
    assert [(e.line, e.code) for e in summary.errors] == [(2, "child_in_other_household")]
    assert "H-1" in import_text.in_language(summary.errors[0], "en")


def test_import_needs_enough_money_in_the_fund(engine: Engine, world: World, words: None) -> None:
    with Session(engine) as s:
        m = s.get(Fund, world.fund_id)
        assert m is not None
        small = funds.create_fund(
            s,
            m.municipality,
            name="Klein",
            start=START,
            end=START + timedelta(days=30),
            budget_cents=30_000,
            deposit_cents=50_000,
            actor="test",
        )
        s.commit()
        summary = importer.import_rows(s, small, csv_bytes(FIRST), actor="test")
        assert [e.code for e in summary.errors] == ["fund_balance_too_low"]
        assert "€ 500,00" in import_text.in_language(summary.errors[0], "nl")
        assert s.execute(select(func.count(Child.id))).scalar_one() == 0


def test_topup_adds_to_an_existing_voucher(engine: Engine, world: World) -> None:
    _import(engine, world, csv_bytes(FIRST))
    with Session(engine) as s:
        fund = s.get(Fund, world.fund_id)
        assert fund is not None
        entry = issuance.topup(s, fund, "K-2", 5_000, actor="test")
        s.commit()
        assert entry.kind == "voucher.topup"
    assert _voucher_balances(engine, world)["K-2"] == 35_000


@pytest.mark.parametrize("others", [0, 600])  # few grants: looked up by id; many: per fund
def test_each_household_with_an_address_is_told_what_its_children_were_given(
    engine: Engine, world: World, others: int
) -> None:
    lines = [
        row("H-1", "K-1", "Anouk", "2016-03-14", email="een@voorbeeld.example"),
        row("H-1", "K-2", "Daan", "2018-02-01", email="een@voorbeeld.example"),
        row("H-2", "K-3", "Sem", "2015-05-12", parent="P. Jansen", email="twee@voorbeeld.example"),
    ]
    lines += [row(f"H-{9 + i}", f"K-{9 + i}", "Noor", "2017-01-01") for i in range(others)]
    with Session(engine) as s:
        fund = s.get(Fund, world.fund_id)
        assert fund is not None
        funds.deposit(s, fund, 30_000 * others + 1, actor="test")
        s.commit()
    assert _import(engine, world, csv_bytes(lines)).imported
    with Session(engine) as s:
        told = {
            (m.address, m.params["amount_cents"])  # type: ignore[index]
            for m in s.execute(
                select(OutboxMessage).where(OutboxMessage.event == "family.budget_issued")
            ).scalars()
        }
    assert told == {("een@voorbeeld.example", 60_000), ("twee@voorbeeld.example", 30_000)}
