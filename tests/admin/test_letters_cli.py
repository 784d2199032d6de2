"""Activation letters from the command line and the fund pages: fresh codes, one page each."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pypdf
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from admin.funds import importer
from kindpakket.audit import AuditEvent
from tests.admin.conftest import FIRST_ROWS, World, csv_bytes, row
from wallet.activation import household_by_code
from wallet.models import Fund, Household

CODE = re.compile(r"activate\?code=(KP(?:-[A-Z0-9]{4}){4})")


def _imported(engine: Engine, world: World) -> None:
    rows = [*FIRST_ROWS, row("H-3", "K-4", "Bram", "2017-05-01", parent="A. Bakker")]
    with Session(engine) as s:
        fund = s.get(Fund, world.fund_id)
        assert fund is not None
        assert importer.import_rows(s, fund, csv_bytes(rows), actor="test").imported
        s.commit()


def _pages(pdf: bytes) -> list[str]:
    return [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def _codes(pages: list[str]) -> list[str]:
    return [CODE.search(text.replace("\n", "")).group(1) for text in pages]  # type: ignore[union-attr]


def _activate(engine: Engine, reference: str) -> None:
    with Session(engine) as s:
        h = s.execute(select(Household).where(Household.reference == reference)).scalar_one()
        h.pin_hash = "argon2-placeholder"  # as if the family chose a PIN
        s.commit()


def test_letters_command_prints_one_page_per_household_with_fresh_codes(
    run_cli,
    engine: Engine,
    world: World,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    _imported(engine, world)
    _activate(engine, "H-3")
    out = tmp_path / "brieven.pdf"
    result = run_cli("letters", str(world.fund_id), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "2 brieven" in result.output  # the messages follow --lang (default Dutch)
    pages = _pages(out.read_bytes())
    assert len(pages) == 2  # H-3 has activated: no letter
    first = pages[0]
    assert "Anouk" in first and "Daan" in first and "€ 300,00" in first and "€ 600,00" in first
    assert "Beste J. de Vries" in first and "Kindpakket 2026" in first
    codes = _codes(pages)
    with Session(engine) as s:
        found = [household_by_code(s, code) for code in codes]
        assert sorted(h.reference for h in found if h is not None) == ["H-1", "H-2"]
        events = s.execute(select(AuditEvent.name)).scalars().all()
        assert "fund.letters_printed" in events


def test_letters_again_replace_the_codes_and_all_includes_activated(
    run_cli,
    engine: Engine,
    world: World,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    _imported(engine, world)
    _activate(engine, "H-3")
    first, second = tmp_path / "a.pdf", tmp_path / "b.pdf"
    assert run_cli("letters", str(world.fund_id), "--out", str(first)).exit_code == 0
    result = run_cli("letters", str(world.fund_id), "--out", str(second), "--all", "--lang", "en")
    assert result.exit_code == 0, result.output
    pages = _pages(second.read_bytes())
    assert len(pages) == 3 and "Dear J. de Vries" in pages[0]
    old_codes = _codes(_pages(first.read_bytes()))
    with Session(engine) as s:
        assert all(household_by_code(s, code) is None for code in old_codes)  # replaced
        assert all(household_by_code(s, code) is not None for code in _codes(pages))


def test_letters_command_without_households_writes_nothing(
    run_cli,
    world: World,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    out = tmp_path / "leeg.pdf"
    result = run_cli("letters", str(world.fund_id), "--out", str(out))
    assert result.exit_code == 0 and "geen brieven nodig" in result.output
    assert not out.exists()
    assert "NEW code" in run_cli("letters", "--help").output


def test_letters_page_downloads_pdf_in_english(
    admin_client: FlaskClient, viewer_client: FlaskClient, engine: Engine, world: World
) -> None:
    _imported(engine, world)
    page = admin_client.get(f"/admin/funds/{world.fund_id}/letters").get_data(as_text=True)
    assert "NIEUWE code" in page and "nog niet hebben geactiveerd: 3" in page
    assert (
        viewer_client.post(
            f"/admin/funds/{world.fund_id}/letters", data={"language": "en", "scope": "pending"}
        ).status_code
        == 403
    )
    pdf = admin_client.post(
        f"/admin/funds/{world.fund_id}/letters", data={"language": "en", "scope": "pending"}
    )
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Cache-Control"] == "no-store"
    pages = _pages(pdf.data)
    assert len(pages) == 3 and "Your activation code" in pages[0]


def test_reissue_one_household_code_from_the_fund_page(
    admin_client: FlaskClient, engine: Engine, world: World
) -> None:
    _imported(engine, world)
    with Session(engine) as s:
        h2 = s.execute(select(Household).where(Household.reference == "H-2")).scalar_one()
    page = admin_client.get(f"/admin/funds/{world.fund_id}?household=H-2").get_data(as_text=True)
    action = f"/admin/funds/{world.fund_id}/households/{h2.id}/code"
    assert action in page
    pdf = admin_client.post(action, data={"language": "nl"})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    pages = _pages(pdf.data)
    assert len(pages) == 1 and "Sem" in pages[0]
    with Session(engine) as s:
        found = household_by_code(s, _codes(pages)[0])
        assert found is not None and found.reference == "H-2"
        names = s.execute(
            select(AuditEvent.name, AuditEvent.actor).where(
                AuditEvent.subject.in_((f"household:{h2.id}", f"fund:{world.fund_id}"))
            )
        ).all()
        assert any(n == "household.code_issued" and a.startswith("admin:") for n, a in names)
        assert any(n == "fund.letters_printed" and a.startswith("admin:") for n, a in names)
    other = admin_client.post(f"/admin/funds/{world.other_fund_id}/households/{h2.id}/code")
    assert other.status_code == 404
