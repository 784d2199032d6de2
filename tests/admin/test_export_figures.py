"""``kindpakket ledger public-figures`` prints the public page's figures from an export alone.

That the figures equal the page's, at the checkpoint and after later payments, is in
tests/admin/test_public_checkpoint.py; here the text the command prints without a register.
"""

from __future__ import annotations

from pathlib import Path

import nacl.signing
from click.testing import CliRunner
from sqlalchemy.orm import Session

from admin.reports import exportfigures
from ledger import checkpoint as ckpt
from ledger import proofs
from tests.admin.workload import generate, seed

ORIGIN = "kindpakket.test/ledger"


def test_command_prints_the_figures_and_what_an_export_cannot_say(
    session: Session, tmp_path: Path
) -> None:
    world = seed(session, families=1)
    generate(session, world, payments=2, refund_every=1)
    key = nacl.signing.SigningKey.generate()
    proofs.make_checkpoint(session, (ORIGIN, key), ORIGIN)
    session.flush()
    proofs.export_ledger(session, tmp_path, [ckpt.vkey(ORIGIN, key.verify_key)])
    result = CliRunner().invoke(exportfigures.public_figures, ["--from", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"fonds / fund {world.fund.id}: uitgegeven / issued € 600,00" in result.output
    assert "cannot be recomputed from an export" in result.output
    assert "shop categories" in result.output
    assert "households with a budget" not in result.output  # needs the register
    (tmp_path / "entries.ndjson").write_bytes(b'{"seq":1}')  # cut short, not an export
    broken = CliRunner().invoke(exportfigures.public_figures, ["--from", str(tmp_path)])
    assert broken.exit_code == 1
    assert "the export does not verify" in broken.output
