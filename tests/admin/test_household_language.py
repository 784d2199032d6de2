"""The household's language (issue 15): the import's taal column, the household page, letters."""

from __future__ import annotations

import io
from datetime import date

import pypdf
import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from admin.funds import csvimport, import_text, importer
from tests.admin.conftest import HEADER, World, csv_bytes, row, words_app
from wallet.models import Fund, Household

TAAL = HEADER + ";taal"


def _rows(*languages: str) -> list[str]:
    """One household per language: H-1 (K-1), H-2 (K-2), ..."""
    return [
        row(f"H-{n}", f"K-{n}", f"Kind{n}", parent=f"Ouder {n}") + f";{language}"
        for n, language in enumerate(languages, 1)
    ]


def _import(engine: Engine, world: World, data: bytes) -> importer.ImportSummary:
    with Session(engine) as s:
        fund = s.get(Fund, world.fund_id)
        assert fund is not None
        summary = importer.import_rows(s, fund, data, actor="test")
        s.commit()
        return summary


def _languages(engine: Engine) -> dict[str, str | None]:
    with Session(engine) as s:
        return {r[0]: r[1] for r in s.execute(select(Household.reference, Household.language))}


def _pages(pdf: bytes) -> list[str]:
    return [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def test_taal_column_takes_codes_and_dutch_or_english_names_in_any_case() -> None:
    data = csv_bytes(_rows("pl", "Turks", "", "EN", "Oekraïens", "arabic"), header=TAAL)
    result = csvimport.parse_csv(data, reference_date=date(2026, 1, 1))
    assert result.errors == []
    assert [r.language for r in result.rows] == ["pl", "tr", None, "en", "uk", "ar"]
    english = csv_bytes(_rows("nl"), header=TAAL.replace("taal", "language"))
    assert csvimport.parse_csv(english, reference_date=date(2026, 1, 1)).rows[0].language == "nl"


def test_unknown_language_is_a_clear_row_error_in_dutch_and_english() -> None:
    data = csv_bytes(_rows("pl", "Klingon"), header=TAAL)
    result = csvimport.parse_csv(data, reference_date=date(2026, 1, 1))
    assert [(e.line, e.column, e.code) for e in result.errors] == [
        (3, "language", "unknown_language")
    ]
    with words_app().app_context():
        dutch = import_text.in_language(result.errors[0], "nl")
        english = import_text.in_language(result.errors[0], "en")
    assert dutch == (
        "regel 3, kolom taal: onbekende taal 'Klingon'; "
        "gebruik een van nl, en, tr, ar, pl, uk (of laat het leeg)"
    )
    assert english.startswith("line 3, column language: unknown language 'Klingon'; use one of")


def test_import_with_an_unknown_language_writes_nothing(engine: Engine, world: World) -> None:
    summary = _import(engine, world, csv_bytes(_rows("pl", "Turks", "xx"), header=TAAL))
    assert not summary.imported
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Household)) == 0


def test_reimport_updates_the_language_and_a_file_without_the_column_keeps_it(
    engine: Engine, world: World
) -> None:
    assert _import(engine, world, csv_bytes(_rows("pl", "", "tr"), header=TAAL)).imported
    assert _languages(engine) == {"H-1": "pl", "H-2": None, "H-3": "tr"}
    assert _import(engine, world, csv_bytes(_rows("Engels", "ar", ""), header=TAAL)).imported
    assert _languages(engine) == {"H-1": "en", "H-2": "ar", "H-3": None}
    plain = [r.rsplit(";", 1)[0] for r in _rows("", "", "")]
    assert _import(engine, world, csv_bytes(plain)).imported
    assert _languages(engine) == {"H-1": "en", "H-2": "ar", "H-3": None}


def test_two_rows_of_one_household_must_agree_on_the_language() -> None:
    lines = [row("H-1", "K-1") + ";pl", row("H-1", "K-2", "Daan") + ";tr"]
    result = csvimport.parse_csv(csv_bytes(lines, header=TAAL), reference_date=date(2026, 1, 1))
    assert [(e.line, e.column, e.code) for e in result.errors] == [
        (3, "language", "household_conflict")
    ]


def test_letters_run_prints_each_household_in_its_own_language(
    admin_client: FlaskClient, engine: Engine, world: World
) -> None:
    assert _import(engine, world, csv_bytes(_rows("pl", "tr", ""), header=TAAL)).imported
    pdf = admin_client.post(
        f"/admin/funds/{world.fund_id}/letters", data={"language": "nl", "scope": "pending"}
    )
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    polish, turkish, dutch = _pages(pdf.data)  # by postcode, then reference: H-1, H-2, H-3
    assert "Ouder 1" in polish and "Jak płacić" in polish and "Zo betaalt u" not in polish
    assert "Ouder 2" in turkish and "Nasıl ödenir" in turkish and "Zo betaalt u" not in turkish
    assert "Ouder 3" in dutch and "Zo betaalt u" in dutch
    english = admin_client.post(
        f"/admin/funds/{world.fund_id}/letters", data={"language": "en", "scope": "all"}
    )
    pages = _pages(english.data)
    assert "Jak płacić" in pages[0] and "How to pay" in pages[2]  # the radio is the default


def test_reissue_prints_the_household_language_and_the_page_shows_it(
    admin_client: FlaskClient, engine: Engine, world: World
) -> None:
    assert _import(engine, world, csv_bytes(_rows("pl", ""), header=TAAL)).imported
    with Session(engine) as s:
        ids = {r[0]: r[1] for r in s.execute(select(Household.reference, Household.id))}
    base = f"/admin/funds/{world.fund_id}/households"
    page = admin_client.get(f"{base}/{ids['H-1']}").get_data(as_text=True)
    assert "Taal: Polski." in page
    other = admin_client.get(f"{base}/{ids['H-2']}").get_data(as_text=True)
    assert "Taal: niet genoemd in de import." in other
    (polish,) = _pages(admin_client.post(f"{base}/{ids['H-1']}/code", data={"language": "en"}).data)
    assert "Jak płacić" in polish and "How to pay" not in polish
    (english,) = _pages(
        admin_client.post(f"{base}/{ids['H-2']}/code", data={"language": "en"}).data
    )
    assert "How to pay" in english


@pytest.mark.parametrize("word", ["Pools", "POLISH", "polski", " pl "])
def test_language_words(word: str) -> None:
    assert csvimport.parse_language(word) == "pl"
