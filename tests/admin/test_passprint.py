"""Printing passes: cards (ID-1 pages or A4 with cut marks), PIN letters, the CLI command."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pypdf
import pytest
from flask import Flask
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from admin.funds import importer
from admin.funds.letter_texts import pass_texts
from admin.passes import printing as passprint
from admin.passes import qr as passqr
from kindpakket.audit import AuditEvent
from kindpakket.passwords import verify_secret
from tests.admin.conftest import FIRST_ROWS, World, csv_bytes, words_app
from wallet.models import Fund
from wallet.passmodels import Pass, PassPin

NUMBER = re.compile(r"\d{4} \d{4} \d{4}")
PIN = re.compile(r"(\d \d \d \d \d \d)")


def _imported(engine: Engine, world: World) -> None:
    with Session(engine) as s:
        fund = s.get(Fund, world.fund_id)
        assert fund is not None
        assert importer.import_rows(s, fund, csv_bytes(FIRST_ROWS), actor="test").imported
        s.commit()


@pytest.fixture
def run_cli(funds_app: Flask):  # type: ignore[no-untyped-def]
    """Run ``kindpakket passes ...`` against the test app."""
    import click
    from flask.cli import ScriptInfo

    from admin.passes.cli import commands

    group = click.Group("kindpakket", commands={c.name: c for c in commands if c.name})
    runner = funds_app.test_cli_runner()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(group, list(args), obj=ScriptInfo(create_app=lambda: funds_app))

    return invoke


def _pages(pdf: bytes) -> list[pypdf.PageObject]:
    return list(pypdf.PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.parametrize("text", ["KP2:" + "AB23" * 10, "KP2:" + "7" * 40, "HELLO WORLD"])
def test_the_fast_qr_codes_equal_the_qrcode_librarys_own(text: str) -> None:
    assert passqr.matrix(text) == passqr.reference_matrix(text)


def test_cards_are_id1_pages_or_ten_per_a4_sheet() -> None:
    cards = [
        passprint.Card(f"{123456789000 + i}", "KP2:" + "A" * 40, "Kindpakket") for i in range(11)
    ]
    one_each = _pages(passprint.render_cards(cards, pass_texts, layout="card"))
    assert len(one_each) == 11
    width_mm = float(one_each[0].mediabox.width) * 25.4 / 72
    height_mm = float(one_each[0].mediabox.height) * 25.4 / 72
    assert round(width_mm, 1) == 85.6 and round(height_mm, 1) == 54.0
    with words_app().app_context():
        sheets = _pages(passprint.render_cards(cards, pass_texts, layout="a4", language="en"))
    assert len(sheets) == 2
    first = sheets[0].extract_text()
    assert first.count("Pass number") == 10 and "1234 5678 9000" in first
    assert sheets[1].extract_text().count("Pass number") == 1  # the replayed text is on page 2


def test_the_passes_command_prints_cards_and_pin_letters_once(
    run_cli,
    engine: Engine,
    world: World,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    _imported(engine, world)
    out = tmp_path / "passen.pdf"
    result = run_cli("passes", str(world.fund_id), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "2 passen" in result.output and "2 pincodebrieven" in result.output  # --lang nl
    text = " ".join(p.extract_text() for p in _pages(out.read_bytes()))
    assert len(NUMBER.findall(text)) == 2
    assert "Anouk" not in text and "Daan" not in text  # no child's name on a pass
    letters = [p.extract_text() for p in _pages((tmp_path / "passen-pincodes.pdf").read_bytes())]
    assert len(letters) == 2 and "P. Jansen" in " ".join(letters)
    with Session(engine) as s:
        stored = list(s.scalars(select(PassPin)))
        assert len(stored) == 2 and s.scalar(select(func.count()).select_from(Pass)) == 2
        pins = [PIN.search(page).group(1).replace(" ", "") for page in letters]  # type: ignore[union-attr]
        assert all(any(verify_secret(r.pin_hash, p) for r in stored) for p in pins)
        assert s.scalar(select(func.count()).where(AuditEvent.name == "fund.passes_issued")) == 1
    again = run_cli("passes", str(world.fund_id), "--out", str(out))
    assert again.exit_code == 0 and "geen passen nodig" in again.output


def test_per_child_passes_and_an_unknown_household_from_the_command_line(
    run_cli,
    engine: Engine,
    world: World,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    _imported(engine, world)
    out = tmp_path / "p.pdf"
    bad = run_cli("passes", str(world.fund_id), "--out", str(out), "--household", "NOPE")
    assert bad.exit_code == 2 and "NOPE" in bad.output and not out.exists()
    result = run_cli(
        "passes",
        str(world.fund_id),
        "--out",
        str(out),
        "--per",
        "child",
        "--household",
        "H-1",
        "--layout",
        "card",
        "--lang",
        "en",
    )
    assert result.exit_code == 0, result.output
    assert "2 passes" in result.output and "1 PIN letters" in result.output
    assert len(_pages(out.read_bytes())) == 2
