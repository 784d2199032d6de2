"""/healthz says alive; /readyz says ready, and fails while the database is gone, then recovers."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from tests.conftest import PG_SERVER
from tests.merchant.conftest import keyring

__all__ = ["keyring"]


def _dispose(app: Any) -> None:
    app.extensions["kindpakket_db"][0].dispose()


def _take_database_away(app: Any, url: str) -> Any:
    """Make the database unreachable; return how to bring it back."""
    _dispose(app)
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        moved = [(p, p.with_name(p.name + ".away")) for p in path.parent.glob(path.name + "*")]
        for old, new in moved:
            old.rename(new)

        def back() -> None:
            _dispose(app)
            for old, _ in moved:
                old.unlink(missing_ok=True)  # the empty file a reconnect left behind
            for old, new in moved:
                new.rename(old)

        return back
    name = url.rpartition("/")[2]
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")

    def rename(old: str, new: str) -> None:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d"),
                {"d": old},
            )
            conn.execute(text(f'ALTER DATABASE "{old}" RENAME TO "{new}"'))

    rename(name, name + "_away")

    def back_pg() -> None:
        rename(name + "_away", name)
        admin.dispose()

    return back_pg


def test_readyz_fails_while_the_database_is_gone_and_recovers(
    app: Any, client: Any, database_url: str
) -> None:
    first = client.get("/readyz")
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["checks"] == {
        "database": "ok",
        "migrations": "ok",
        "signing_keys": "ok",
        "restore_hold": "ok",
        "worker_heartbeat": "ok",  # no mail server configured: no worker expected
    }
    bring_back = _take_database_away(app, database_url)
    try:
        gone = client.get("/readyz")
        assert gone.status_code == 503
        assert gone.get_json()["status"] == "not_ready"
        assert client.get("/healthz").status_code == 200  # the process itself is alive
    finally:
        bring_back()
    assert client.get("/readyz").status_code == 200


def test_readyz_fails_when_a_signing_key_is_readable_by_others(
    app: Any, client: Any, keyring: Any
) -> None:
    info = keyring.list()[0]
    os.chmod(keyring.directory / info.filename, 0o644)
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert "chmod 0600" in answer.get_json()["checks"]["signing_keys"]
