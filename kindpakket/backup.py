"""Backups that can be restored and proven complete: the data, a manifest, the public keys.

A backup directory holds::

    manifest.json      engine, time, ledger head (seq, hash) and checkpoint size at the
                       moment of the copy, migration revision, SHA-256 of the data file
    kindpakket.sqlite  SQLite: a page copy by the online backup API, or
    kindpakket.pgdump  PostgreSQL: ``pg_dump --format=custom`` of schema and data
    keys/keys.json     the public parts of the signing keys (never the private seeds:
                       those are backed up apart, encrypted, by whoever holds them)
    checkpoint.txt     the latest signed checkpoint inside the backup

Both copies are consistent while payments go on. SQLite's backup runs in one step, that is
one read transaction; in WAL mode writers are not blocked by it. PostgreSQL's dump runs on
a snapshot exported from a REPEATABLE READ transaction that also reads the manifest's head,
so the manifest describes exactly the dumped data.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

FORMAT = 1
SQLITE_FILE = "kindpakket.sqlite"
PG_FILE = "kindpakket.pgdump"
MANIFEST = "manifest.json"
CHECKPOINT = "checkpoint.txt"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why in plain words."""


def backup(engine: Engine, directory: Path, key_dir: Path) -> dict[str, Any]:
    """Copy the database behind ``engine`` into the empty or new ``directory``.

    Returns:
        The manifest written to ``directory / manifest.json``.
    """
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty; give a new directory for each backup")
    if engine.dialect.name == "sqlite":
        data = directory / SQLITE_FILE
        _sqlite_copy(_sqlite_path(engine), data)
        facts = _sqlite_facts(data)
    elif engine.dialect.name == "postgresql":
        data = directory / PG_FILE
        facts = _pg_dump(engine, data)
    else:
        raise BackupError(f"cannot back up a {engine.dialect.name} database")
    _copy_public_keys(key_dir, directory / "keys")
    note = facts.pop("checkpoint_note")
    if note:
        (directory / CHECKPOINT).write_text(note, encoding="utf-8")
    manifest = {
        "format": FORMAT,
        "engine": engine.dialect.name,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_file": data.name,
        "sha256": _sha256(data),
        **facts,
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def read_manifest(directory: Path) -> dict[str, Any]:
    """Return the manifest of a backup, checking the data file is whole."""
    try:
        manifest: dict[str, Any] = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{directory} holds no readable {MANIFEST}: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    data = directory / str(manifest["data_file"])
    if not data.is_file() or _sha256(data) != manifest["sha256"]:
        raise BackupError(f"{data} is missing or damaged (its SHA-256 differs from the manifest)")
    return manifest


def restore(engine: Engine, directory: Path) -> dict[str, Any]:
    """Replace the database behind ``engine`` by the backup in ``directory``.

    Returns:
        The backup's manifest.
    """
    manifest = read_manifest(directory)
    if manifest["engine"] != engine.dialect.name:
        raise BackupError(
            f"this is a {manifest['engine']} backup; the configured database is "
            f"{engine.dialect.name}"
        )
    data = directory / str(manifest["data_file"])
    engine.dispose()  # no pooled connection keeps the old state open
    if engine.dialect.name == "sqlite":
        _sqlite_copy(data, _sqlite_path(engine))
    else:
        _pg_restore(engine, data)
    engine.dispose()
    return manifest


# --- SQLite --------------------------------------------------------------------------------


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database or ""
    if database in ("", ":memory:"):
        raise BackupError("an in-memory database cannot be backed up")
    return Path(database)


def _sqlite_copy(source: Path, target: Path) -> None:
    """Copy ``source`` into ``target`` page by page in one read transaction."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.execute("PRAGMA busy_timeout=30000")
        dst.execute("PRAGMA busy_timeout=30000")
        src.backup(dst)  # pages=-1: one step, so the copy is one consistent snapshot
    finally:
        dst.close()
        src.close()


def _sqlite_facts(path: Path) -> dict[str, Any]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return _facts(lambda sql: conn.execute(sql).fetchall())
    finally:
        conn.close()


# --- PostgreSQL ----------------------------------------------------------------------------


def _libpq(engine: Engine) -> tuple[str, dict[str, str]]:
    """Return a libpq URL without the password, and an environment carrying it."""
    url = engine.url.set(drivername="postgresql")
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return url.set(password=None).render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed on this machine; install the PostgreSQL client "
            "(Debian: apt-get install postgresql-client) of the server's major version"
        )
    return found


def _pg_dump(engine: Engine, target: Path) -> dict[str, Any]:
    """Dump on a snapshot that also gives the manifest its facts."""
    tool = _tool("pg_dump")
    url, env = _libpq(engine)
    with (
        engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn,
        conn.begin(),
    ):
        snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        facts = _facts(lambda sql: conn.exec_driver_sql(sql).fetchall())
        done = subprocess.run(
            [tool, "--format=custom", "--no-owner", "--no-privileges",
             f"--snapshot={snapshot}", f"--file={target}", f"--dbname={url}"],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    return facts


def _pg_restore(engine: Engine, source: Path) -> None:
    """Empty the public schema and restore the dump into it, in one transaction."""
    tool = _tool("pg_restore")
    url, env = _libpq(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    done = subprocess.run(
        [tool, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
         f"--dbname={url}", str(source)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()}")


# --- shared --------------------------------------------------------------------------------


def _facts(query: Any) -> dict[str, Any]:
    """Read the head, the latest checkpoint and the migration revision (plain SQL)."""
    seq, head_hash = query("SELECT seq, hash FROM ledger_head WHERE id = 1")[0]
    cps = query("SELECT size, note FROM ledger_checkpoints ORDER BY size DESC LIMIT 1")
    revisions = sorted(str(r[0]) for r in query("SELECT version_num FROM alembic_version"))
    return {
        "head_seq": int(seq),
        "head_hash": str(head_hash),
        "checkpoint_size": int(cps[0][0]) if cps else 0,
        "checkpoint_note": str(cps[0][1]) if cps else "",
        "revisions": revisions,
    }


def _copy_public_keys(key_dir: Path, target: Path) -> None:
    """Copy keys.json only: the public keys and their validity, never a private seed."""
    target.mkdir()
    metadata = key_dir / "keys.json"
    if metadata.is_file():
        shutil.copyfile(metadata, target / "keys.json")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
