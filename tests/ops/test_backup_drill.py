"""The restore drill: pay under load, back up, pay more, restore, verify, compare.

On SQLite and PostgreSQL. The municipality keeps a checkpoint outside the database; a
restore that lacks entries it covers says how many and which, and holds the service (503
on /readyz and on every request) until ``kindpakket restore --accept-loss``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from ledger import store
from tests.merchant.conftest import World, login
from tests.ops.conftest import pay_once, paying, wait_for


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """Checkpoints every few entries, so the stored ones are checked after a restore too."""
    return {**app_config, "CHECKPOINT_EVERY_ENTRIES": 7}


def _kept_checkpoint(cli: Any, path: Path) -> int:
    """Sign a checkpoint and keep it in a file, as the municipality's cron job does."""
    result = cli("ledger", "checkpoint")
    assert result.exit_code == 0, result.output
    note = result.stdout if hasattr(result, "stdout") else result.output
    path.write_text(note, encoding="utf-8")
    return int(note.splitlines()[1])


def _head(session: Session) -> tuple[int, str]:
    session.rollback()
    report = store.verify(session)
    session.rollback()  # hold no snapshot (PostgreSQL: no lock) while the schema is replaced
    return report.last_seq, report.head_hash


def test_restore_that_lost_entries_names_them_and_holds_the_service_until_accepted(
    app: Any, cli: Any, client: Any, session: Session, world: World, tmp_path: Path
) -> None:
    backup_dir = tmp_path / "backup"
    with paying(app, world) as statuses:
        wait_for(statuses, 20)
        made = cli("backup", str(backup_dir))
        wait_for(statuses, len(statuses) + 10)  # payments go on after the copy
    assert made.exit_code == 0, made.output
    assert set(statuses) == {201}, statuses
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    assert not any(p.name.endswith(".key") for p in (backup_dir / "keys").iterdir())

    login(client, world.cashier.email)
    for _ in range(3):
        assert pay_once(client, world).status_code == 201
    kept_size = _kept_checkpoint(cli, tmp_path / "kept.txt")
    before_size, _ = _head(session)
    assert kept_size == before_size > manifest["head_seq"]

    restored = cli("restore", str(backup_dir), "--checkpoint", str(tmp_path / "kept.txt"))
    assert restored.exit_code == 1, restored.output
    lost = kept_size - manifest["head_seq"]
    assert f"{lost} entries are missing: numbers {manifest['head_seq'] + 1} to {kept_size}" in (
        restored.output
    )
    assert _head(session) == (manifest["head_seq"], manifest["head_hash"])

    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"]["restore_hold"] == "held after a restore: entries_lost"
    refused = pay_once(client, world)
    assert refused.status_code == 503
    assert refused.get_json()["error"]["code"] == "service_held"
    assert client.get("/healthz").status_code == 200  # alive, just not serving

    lifted = cli("restore", "--accept-loss", "--by", "J. Jansen (IT)")
    assert lifted.exit_code == 0 and "hold lifted" in lifted.output
    assert client.get("/readyz").status_code == 200
    assert pay_once(client, world).status_code == 201
    assert cli("ledger", "verify").exit_code == 0


def test_restore_proven_complete_serves_at_once(
    app: Any, cli: Any, client: Any, session: Session, world: World, tmp_path: Path
) -> None:
    with paying(app, world) as statuses:
        wait_for(statuses, 15)
        kept_size = _kept_checkpoint(cli, tmp_path / "kept.txt")
        made = cli("backup", str(tmp_path / "backup"))
        wait_for(statuses, len(statuses) + 5)
    assert made.exit_code == 0, made.output
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["head_seq"] >= kept_size
    seq, head_hash = manifest["head_seq"], manifest["head_hash"]
    original = store.get_entry(session, seq)
    assert original is not None and original.hash == head_hash  # the copy is this ledger's prefix
    session.rollback()

    restored = cli("restore", str(tmp_path / "backup"), "--checkpoint", str(tmp_path / "kept.txt"))
    assert restored.exit_code == 0, restored.output
    assert f"complete: {seq} entries verify" in restored.output
    assert client.get("/readyz").status_code == 200
    login(client, world.cashier.email)
    assert pay_once(client, world).status_code == 201


def test_restore_without_a_kept_checkpoint_is_unproven_and_held(
    cli: Any, client: Any, session: Session, world: World, tmp_path: Path
) -> None:
    assert cli("backup", str(tmp_path / "b")).exit_code == 0
    session.rollback()
    restored = cli("restore", str(tmp_path / "b"))
    assert restored.exit_code == 1 and "UNPROVEN" in restored.output
    assert client.get("/readyz").status_code == 503
    accepted = cli("restore", str(tmp_path / "b"), "--accept-loss", "--by", "test")
    assert accepted.exit_code == 0, accepted.output
    assert client.get("/readyz").status_code == 200


def test_damaged_backup_is_refused_and_changes_nothing(
    cli: Any, session: Session, world: World, tmp_path: Path
) -> None:
    assert cli("backup", str(tmp_path / "b")).exit_code == 0
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    data = tmp_path / "b" / manifest["data_file"]
    data.write_bytes(data.read_bytes()[:-100])
    before = _head(session)
    refused = cli("restore", str(tmp_path / "b"))
    assert refused.exit_code == 1 and "damaged" in refused.output
    assert _head(session) == before
    assert cli("backup", str(tmp_path / "b")).exit_code == 1  # never over an old backup
