"""Issue 15: fixed shop categories, an age limit per fund, CSV files as Dutch Excel saves them."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from admin.funds import csvimport, import_text, importer
from admin.funds import services as funds
from kindpakket.errors import DomainError
from kindpakket.time import today as amsterdam_today
from tests import factories as f
from tests.admin.conftest import HEADER, World, csv_bytes, row
from wallet.models import Child, Fund

REF = date(2026, 1, 1)


def parse(data: bytes, max_age: int | None = 17) -> csvimport.ParseResult:
    return csvimport.parse_csv(data, reference_date=REF, max_age=max_age)


def codes(result: csvimport.ParseResult) -> list[tuple[int | None, str | None, str]]:
    return [(e.line, e.column, e.code) for e in result.errors]


# --------------------------------------------------------------------------- encodings


def test_windows_1252_file_from_excel_is_read_with_its_accents() -> None:
    text = HEADER + "\n" + row(first_name="Zoë", parent="J. Müller-Çelik") + "\n"
    result = parse(text.encode("cp1252"))
    assert codes(result) == []
    assert result.rows[0].child_first_name == "Zoë"
    assert result.rows[0].parent_name == "J. Müller-Çelik"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_utf16_file_with_bom_is_read(encoding: str) -> None:
    text = (HEADER + "\n" + row(first_name="Zoë") + "\n").replace(";", "\t")
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    result = parse(data)
    assert codes(result) == [] and result.rows[0].child_first_name == "Zoë"
    assert result.delimiter == "\t"


def test_unreadable_file_says_how_to_save_it_from_excel(words: None) -> None:
    result = parse(HEADER.encode() + b"\nH;Zo\x81\x8d\n")
    assert codes(result) == [(None, None, "not_utf8")]
    dutch = import_text.in_language(result.errors[0], "nl")
    assert "Opslaan als → CSV UTF-8 (door komma's gescheiden)" in dutch
    assert "Save As → CSV UTF-8 (Comma delimited)" in import_text.in_language(
        result.errors[0], "en"
    )
    assert codes(parse(("\x00" + HEADER).encode())) == [(None, None, "not_utf8")]


def test_excel_separator_line_is_honoured_and_lines_keep_their_numbers() -> None:
    header = HEADER.replace(";", ",")
    lines = [row().replace(";", ","), row(child="K-2", born="2016-02-30").replace(";", ",")]
    data = ("sep=,\n" + header + "\n" + "\n".join(lines) + "\n").encode()
    result = parse(data)
    assert result.delimiter == "," and len(result.rows) == 1
    assert codes(result) == [(4, "birth_date", "invalid_date")]


def test_a_line_with_another_separator_is_named(words: None) -> None:
    data = csv_bytes([row(), row(child="K-2").replace(";", ",")])
    result = parse(data)
    assert codes(result) == [(3, None, "mixed_separator")]
    assert import_text.in_language(result.errors[0], "nl") == (
        "regel 3: deze regel is gescheiden met ',' terwijl de kopregel ';' gebruikt; "
        "gebruik één scheidingsteken in het hele bestand"
    )


# --------------------------------------------------------------------------- age limit


def test_a_25_year_old_child_is_refused_with_its_line(words: None) -> None:
    result = parse(csv_bytes([row(), row(child="K-2", born="2000-06-01")]))
    assert codes(result) == [(3, "birth_date", "too_old")]
    assert import_text.in_language(result.errors[0], "nl") == (
        "regel 3, kolom geboortedatum: het kind is 25 jaar op 2026-01-01; "
        "dit fonds is voor kinderen tot en met 17 jaar"
    )
    # 17 on the reference date is still allowed, 18 is not
    assert codes(parse(csv_bytes([row(born="2008-01-01")]))) == [(2, "birth_date", "too_old")]
    assert codes(parse(csv_bytes([row(born="2008-01-02")]))) == []
    assert codes(parse(csv_bytes([row(born="2000-06-01")]), max_age=None)) == []


def test_import_refuses_the_whole_file_for_one_adult(engine: Engine, world: World) -> None:
    data = csv_bytes([row(), row(child="K-2", born="2000-06-01")])
    with Session(engine) as s:
        fund = s.get(Fund, world.fund_id)
        assert fund is not None and fund.max_age == 17
        summary = importer.import_rows(s, fund, data, actor="test")
        s.commit()
        assert not summary.imported
        assert [e.code for e in summary.errors] == ["too_old"]
        assert s.execute(select(func.count(Child.id))).scalar_one() == 0


def test_a_fund_with_a_higher_age_limit_takes_the_older_child(engine: Engine) -> None:
    with Session(engine) as s:
        fund = funds.create_fund(
            s,
            f.municipality(s),
            name="Studiepakket",
            start=amsterdam_today(),
            end=amsterdam_today().replace(year=amsterdam_today().year + 1),
            budget_cents=10_000,
            deposit_cents=100_000,
            max_age=26,
            actor="test",
        )
        summary = importer.import_rows(s, fund, csv_bytes([row(born="2000-06-01")]), actor="test")
        s.commit()
        assert summary.imported and summary.children_new == 1
    with Session(engine) as s, pytest.raises(DomainError) as caught:
        funds.create_fund(
            s,
            f.municipality(s, slug="b"),
            name="X",
            start=REF,
            end=REF,
            budget_cents=1,
            max_age=99,
            actor="test",
        )
    assert caught.value.code == "bad_max_age"


def test_cli_import_names_the_adult_in_dutch_and_english(
    run_cli,
    world: World,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    csv_file = tmp_path / "kinderen.csv"
    csv_file.write_bytes(csv_bytes([row(born="1990-01-01")]))
    result = run_cli("import-children", str(world.fund_id), str(csv_file))
    assert result.exit_code == 1
    assert "regel 2, kolom geboortedatum: het kind is" in result.output  # Dutch by default
    english = run_cli("import-children", str(world.fund_id), str(csv_file), "--lang", "en")
    assert english.exit_code == 1
    assert "this fund is for children up to 17" in english.output


# --------------------------------------------------------------------------- categories


def test_fund_page_offers_the_fixed_categories_and_refuses_others(
    admin_client: FlaskClient, engine: Engine
) -> None:
    page = admin_client.get("/admin/funds/new").get_data(as_text=True)
    assert 'value="books_school"' in page and "Kleding en schoenen" in page
    form = {
        "name": "Kindpakket 2027",
        "start": "2027-01-01",
        "end": "2027-12-31",
        "budget": "300,00",
        "categories": ["clothing", "school"],
    }
    refused = admin_client.post("/admin/funds/new", data=form)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "school" in body and "clothing, sports, books_school" in body
    made = admin_client.post("/admin/funds/new", data=form | {"categories": ["sports"]})
    assert made.status_code == 302
    with Session(engine) as s:
        fund = s.execute(select(Fund).where(Fund.name == "Kindpakket 2027")).scalar_one()
        assert fund.categories == ["sports"] and fund.max_age == 17
    shown = admin_client.get(made.headers["Location"]).get_data(as_text=True)
    assert "Kinderen tot en met 17 jaar" in shown and "Winkelcategorieën: Sport" in shown


def test_cli_refuses_a_dutch_category_naming_the_allowed_ones(run_cli, world: World) -> None:  # type: ignore[no-untyped-def]
    args = ["fund", "create", "--municipality", "voorbeeld", "--name", "K", "--start", "2027-01-01"]
    args += ["--end", "2027-12-31", "--budget", "300"]
    refused = run_cli(*args, "--categories", "kleding")
    assert refused.exit_code == 2 and "bad_category" in refused.output
    assert "kleding" in refused.output and "clothing, sports" in refused.output
    made = run_cli(*args, "--categories", "clothing,toys", "--max-age", "12")
    assert made.exit_code == 0, made.output


# --------------------------------------------------------------------------- progress


def test_import_pages_show_a_busy_state_and_the_counts(
    admin_client: FlaskClient, world: World
) -> None:
    page = admin_client.get(f"/admin/funds/{world.fund_id}/import").get_data(as_text=True)
    assert 'data-busy="upload-busy"' in page and "Bezig met controleren" in page
    upload = {"file": (io.BytesIO(csv_bytes([row(), row(child="K-2")])), "kinderen.csv")}
    preview = admin_client.post(f"/admin/funds/{world.fund_id}/import", data=upload)
    body = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert 'data-busy="import-busy"' in body
    assert "Bezig met importeren van 2 kinderen" in body
    script = admin_client.get("/static/js/busy.js")
    assert script.status_code == 200 and b"data-busy" in script.data


def test_cli_letters_show_progress(run_cli, world: World, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    csv_file = tmp_path / "kinderen.csv"
    csv_file.write_bytes(csv_bytes([row(), row(household="H-2", child="K-2")]))
    imported = run_cli("import-children", str(world.fund_id), str(csv_file))
    assert imported.exit_code == 0, imported.output
    assert "budgetten / budgets" in imported.output
    out = tmp_path / "brieven.pdf"
    printed = run_cli("letters", str(world.fund_id), "--out", str(out))
    assert printed.exit_code == 0, printed.output
    assert "brieven / letters" in printed.output and out.read_bytes().startswith(b"%PDF")
