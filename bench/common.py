"""Shared helpers for benchmarks: fresh databases, timing, and printing ratios.

Machines here are noisy, so every figure is printed beside a baseline measured in the same
run, on the same engine; read the ratio, not the absolute time.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

from kindpakket.db import make_engine
from kindpakket.migrate import upgrade

PG_SERVER = os.environ.get(
    "KINDPAKKET_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def pg_available() -> bool:
    """Return True when the PostgreSQL server answers."""
    try:
        eng = create_engine(PG_SERVER)
        with eng.connect() as conn:
            conn.execute(text("SELECT 1"))
        eng.dispose()
        return True
    except Exception:
        return False


def arguments(description: str | None, **sizes: int) -> argparse.Namespace:
    """Parse ``--no-pg`` and one ``--<size> N`` option per keyword (its default)."""
    parser = argparse.ArgumentParser(description=description)
    for name, default in sizes.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=default)
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    return parser.parse_args()


def engines(args: argparse.Namespace) -> list[str]:
    """Return the engines to run on: SQLite, then PostgreSQL unless ``--no-pg`` or unreachable."""
    return ["sqlite"] + ([] if args.no_pg or not pg_available() else ["postgresql"])


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def fresh_database(kind: str, name: str = "kp_bench") -> Iterator[Engine]:
    """Yield an engine on a new, migrated database of ``kind`` (sqlite or postgresql).

    On PostgreSQL the database is ``name`` followed by ``$KINDPAKKET_BENCH_DB_SUFFIX``, so
    people sharing a server can run the same benchmark at once.
    """
    name += os.environ.get("KINDPAKKET_BENCH_DB_SUFFIX", "")
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
            upgrade(engine)
            try:
                yield engine
            finally:
                engine.dispose()
        return
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_SERVER.rpartition("/")[0]
    engine = make_engine(f"{base}/{name}")
    upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def rate(count: int, fn: Callable[[], object], repeat: int = 3) -> float:
    """Return the best-of-``repeat`` rate in operations per second of ``fn`` doing ``count``."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return count / best


def median_seconds(fn: Callable[[], object], repeat: int = 5) -> float:
    """Return the median wall time of ``fn``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def row(label: str, value: str, note: str = "") -> None:
    """Print one aligned result line."""
    print(f"  {label:<52} {value:>16}  {note}")
