"""Driver-level bulk SQL for the append path: executemany on SQLite, COPY on PostgreSQL.

The append path skips the SQL expression layer: an append is a handful of statements and
their Python overhead dominates. SQL is written with ``?`` and turned into ``%s`` for
psycopg by :func:`driver_sql`.
"""

from __future__ import annotations

import gc
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.exc import DBAPIError

COPY_MIN_ROWS = 32  # PostgreSQL: from this many rows on, COPY beats a pipelined executemany
IN_CHUNK = 500  # SQLite: values per IN (...) list
GC_PAUSE_MIN = 256  # entries or rows from which a bulk step holds off the garbage collector


@contextmanager
def gc_paused(active: bool = True) -> Iterator[None]:
    """Hold off Python's cyclic garbage collector while a bulk step runs (when ``active``).

    A batch of 5 000 entries allocates some 100 000 tuples, dicts and objects, which set off
    collector passes that walk the whole heap again and again: about a third of the CPU of a
    batch append. The step makes no reference cycles, so reference counting frees all it
    drops; the collector runs again, on its own schedule, afterwards. Other threads only see
    their collections come a little later.
    """
    if not active or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """Yield ``items`` in slices of ``size``."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


def bind_value(conn: Connection, column: Any, value: Any) -> Any:
    """Return ``value`` as the driver wants it for ``column`` (e.g. SQLite datetimes as text)."""
    return _to_driver(column.type.bind_processor(conn.dialect), conn.dialect.name, value)


def _to_driver(processor: Callable[[Any], Any] | None, dialect: str, value: Any) -> Any:
    value = processor(value) if processor else value
    if dialect == "sqlite" and isinstance(value, date):
        # what sqlite3 would do to every row; done once here for a value shared by many rows
        adapter = sqlite3.adapters.get((type(value), sqlite3.PrepareProtocol))
        value = adapter(value) if adapter else value
    return value


def _converter(conn: Connection, column: Any, first: Any) -> Callable[[Any], Any] | None:
    """Return what ``bind_value`` does for ``column``, remembering the last value converted.

    Bulk rows share values (an import's one timestamp in every row): converting each once
    instead of per row. None when the column's values go to the driver as they are (judged
    by the first row's ``first``).
    """
    processor = column.type.bind_processor(conn.dialect)
    dialect = conn.dialect.name
    if processor is None and not (dialect == "sqlite" and isinstance(first, date)):
        return None
    last: list[Any] = [_NOTHING, None]  # the last value in, and what it became

    def convert(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, _to_driver(processor, dialect, value)
        return last[1]

    return convert


_NOTHING = object()


def insert_table_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert dicts of column values into ``table`` through ``insert_rows`` (bulk imports).

    Values pass the column types' bind processors; Python-side column defaults are NOT
    applied, so every row must carry every column it needs. All rows have the keys of the
    first.

    Args:
        conn: the transaction's connection.
        table: the table.
        rows: one dict per row.
    """
    if not rows:
        return
    columns = tuple(rows[0])
    with gc_paused(len(rows) >= GC_PAUSE_MIN):
        values = []  # column by column: map and zip run in C
        for name in columns:
            column = [r[name] for r in rows]
            convert = _converter(conn, table.c[name], column[0])
            values.append(column if convert is None else list(map(convert, column)))
        insert_rows(conn, table.name, columns, list(zip(*values, strict=True)))


def driver_sql(conn: Connection, sql: str) -> str:
    """Return ``sql`` with the driver's parameter marker in place of ``?``."""
    return sql if conn.dialect.paramstyle == "qmark" else sql.replace("?", "%s")


def execute(conn: Connection, sql: str, params: Any = (), *, many: bool = False) -> Any:
    """Run driver SQL on the transaction's DB-API connection itself and return the cursor.

    SQLAlchemy's ``exec_driver_sql`` adds Python per statement (execution context, result
    set-up, events), and an append on SQLite is half a dozen statements: run on the cursor,
    a single append was 1.26-1.28x as fast (alternating with the old path in one process).
    Errors are translated as SQLAlchemy translates them (a UNIQUE violation stays
    ``IntegrityError``), without the parameters.

    Args:
        conn: the transaction's connection.
        sql: SQL in the driver's own parameter style.
        params: one row of parameters, or (``many``) a sequence of rows.
        many: ``executemany`` instead of ``execute``.

    Returns:
        The DB-API cursor (read rows with ``fetchone``/``fetchall``).
    """
    dbapi: Any = conn.dialect.dbapi
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
    except dbapi.Error as exc:
        raise DBAPIError.instance(sql, None, exc, dbapi.Error) from exc
    return cursor


def insert_rows(
    conn: Connection, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert many rows of driver-ready values the fastest way the database offers.

    PostgreSQL gets ``COPY`` for larger batches (one stream instead of a statement per row);
    otherwise the driver's ``executemany``. ``table`` and ``columns`` are fixed names in code,
    never user input. Values must already be what the driver takes (see ``bind_value``).

    Args:
        conn: the transaction's connection.
        table: table name.
        columns: column names, in the order of each row's values.
        rows: the rows.
    """
    if not rows:
        return
    names = ", ".join(columns)
    if conn.dialect.name == "postgresql" and len(rows) >= COPY_MIN_ROWS:
        raw: Any = conn.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for values in rows:
                copy.write_row(values)
        return
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join([marker] * len(columns))})"  # noqa: S608 - fixed names
    execute(conn, sql, rows, many=True)


def select_in(conn: Connection, sql: str, values: Sequence[Any]) -> list[Any]:
    """Run ``sql`` whose ``{in}`` tests a column against ``values``; return all rows.

    PostgreSQL takes the values as one array parameter; SQLite gets ``IN (?, ...)`` lists.
    """
    if not values:
        return []
    if conn.dialect.name == "postgresql":
        return list(execute(conn, sql.format(**{"in": "= ANY(%s)"}), (list(values),)).fetchall())
    out: list[Any] = []
    for chunk in chunks(values, IN_CHUNK):
        marks = "IN (" + ", ".join("?" * len(chunk)) + ")"
        out.extend(
            execute(conn, driver_sql(conn, sql.format(**{"in": marks})), tuple(chunk)).fetchall()
        )
    return out
