"""The public figures recomputed from a ledger export match the dashboard's (issue 15)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy.orm import Session

from admin.reports import exportfigures
from admin.reports import services as reports
from ledger import proofs
from ledger.export import read_lines
from tests.admin.workload import generate, seed


def test_export_figures_match_the_dashboard(session: Session, tmp_path: Path) -> None:
    world = seed(session)
    generate(session, world, payments=30, refund_every=3)
    session.flush()
    proofs.export_ledger(session, tmp_path, [])
    start, end = reports.default_period(world.fund)
    report = reports.fund_report(session, world.fund, start, end)

    figures = exportfigures.compute(read_lines(tmp_path))[world.fund.id]

    assert figures.issued_cents == report.issued_cents > 0
    assert figures.spent_cents == report.paid_cents > 0
    assert figures.refunded_cents == report.refunded_cents > 0
    assert figures.left_cents == report.remaining_cents
    weeks = {g.label: [g.paid_cents, g.refunded_cents] for g in report.weeks}
    assert figures.weeks == weeks
    assert world.other_fund.id not in exportfigures.compute(read_lines(tmp_path))  # no budgets


def test_command_prints_the_figures_and_what_an_export_cannot_say(
    session: Session, tmp_path: Path
) -> None:
    world = seed(session, families=1)
    generate(session, world, payments=2, refund_every=1)
    session.flush()
    proofs.export_ledger(session, tmp_path, [])
    result = CliRunner().invoke(exportfigures.public_figures, ["--from", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"fonds / fund {world.fund.id}: uitgegeven / issued € 600,00" in result.output
    assert "cannot be recomputed from an export" in result.output
    assert "shop categories" in result.output
    (tmp_path / "entries.ndjson").write_bytes(b'{"seq":1}')  # cut short, not an export
    broken = CliRunner().invoke(exportfigures.public_figures, ["--from", str(tmp_path)])
    assert broken.exit_code == 1
