"""Shared fixtures: a migrated database per test, on SQLite and again on PostgreSQL.

PostgreSQL is the server at 127.0.0.1:5432 (user postgres, trust auth), or the URL in
KINDPAKKET_TEST_PG. Outside CI a missing server skips those runs with one line; in CI
(CI=true) it is a failure. Each test starts from an empty migrated database (SQLite: a copy
of a template file; PostgreSQL: one database per worker, emptied after each test), so tests
see committed data and real concurrency.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from kindpakket.db import make_engine, read_only
from kindpakket.migrate import upgrade
from kindpakket.passwords import use_low_cost_for_tests
from ledger.guards import APPEND_ONLY, create_ddl, drop_ddl

PG_SERVER = os.environ.get(
    "KINDPAKKET_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI") == "true"
# Real argon2id, at the lowest cost: the default costs ~0.3 s per hash, hundreds of times.
use_low_cost_for_tests()


def _pg_admin() -> Engine:
    return create_engine(PG_SERVER, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a migrated SQLite file to copy per test."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """Create and migrate this worker's PostgreSQL database; drop it at the end."""
    admin = _pg_admin()
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "no server"
        admin.dispose()
        message = f"PostgreSQL not reachable at {PG_SERVER.split('@')[-1]}: {type(exc).__name__}"
        if IN_CI:
            pytest.fail(message + " (required in CI)")
        pytest.skip(message)
    name = f"kp_test_{os.getpid()}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(_pg_url(name))
    upgrade(engine)
    engine.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _pg_reset(url: str) -> None:
    """Empty every table and restore the guards, as a freshly migrated database has them.

    TRUNCATE is refused by the append-only triggers, so they are switched off for this one
    session (replication role) and recreated afterwards, since tamper tests drop them.
    """
    from kindpakket.models import metadata

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.connect() as conn:
        conn.execute(text("SET session_replication_role = replica"))
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        conn.execute(text("SET session_replication_role = origin"))
        for table, keys in APPEND_ONLY.items():
            for statement in drop_ddl("postgresql", table) + create_ddl("postgresql", table, keys):
                conn.execute(text(statement))
        conn.execute(
            text("INSERT INTO ledger_head (id, seq, hash, frontier) VALUES (1, 0, :h, :f)"),
            {"h": "0" * 64, "f": b""},
        )
    engine.dispose()


def _pg_url(name: str) -> str:
    base, _, _ = PG_SERVER.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of a fresh, migrated database (SQLite, then PostgreSQL)."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "kindpakket.db"
        shutil.copyfile(template, target)
        yield f"sqlite:///{target}"
        return
    name: str = request.getfixturevalue("pg_database")
    url = _pg_url(name)
    try:
        yield url
    finally:
        _pg_reset(url)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the fresh database."""
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the fresh database; the test commits what it wants to keep.

    Its transactions begin as readers (no SQLite write lock until the first write), so a
    test can read between requests without blocking the app it drives.
    """
    with read_only(), Session(engine, expire_on_commit=False) as s:
        yield s
        s.rollback()


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict[str, object]:
    """Settings for a test app on the fresh database, with its own instance directory."""
    return {
        "DATABASE_URL": database_url,
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "BASE_URL": "http://127.0.0.1:5000",
    }


@pytest.fixture
def app(app_config: dict[str, object]):  # type: ignore[no-untyped-def]
    """A Kindpakket app on the fresh database (CSRF off; a dedicated test turns it on)."""
    from kindpakket import create_app

    application = create_app(app_config)
    yield application
    application.extensions["kindpakket_db"][0].dispose()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    """A test client of ``app``."""
    return app.test_client()


@pytest.fixture
def cli(app):  # type: ignore[no-untyped-def]
    """Run ``kindpakket ...`` commands against ``app``: ``cli("ledger", "verify")``."""
    from flask.cli import ScriptInfo

    from kindpakket.cli import main

    runner = app.test_cli_runner()

    def invoke(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app), input=input)

    return invoke
