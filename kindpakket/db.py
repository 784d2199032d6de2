"""Database engine and the unit of work: one transaction per request or CLI command.

Views and services never commit; the shell commits after a request answered below 500 and
rolls back otherwise. A domain error vetoes the commit ("dooms" the unit of work, as
warehouse's ``request.tm.doom()``) unless the error says it keeps its work
(``DomainError.keeps_work``: a counted wrong PIN, a failed login's audit event): the error
handler dooms for errors that reach it, ``db.refusing()`` for errors a view catches to answer
itself, and a CLI transaction rolls back on any error but one that keeps its work.

On SQLite, write transactions begin with ``BEGIN IMMEDIATE`` so that ledger appends are
serialised before they read; read-only requests (GET/HEAD) begin a plain deferred
transaction so they never wait for the write lock.

SQLite writers of one process queue on a lock per database file (``_WriterConnection``)
instead of in SQLite's busy handler, whose sleeps grow to 100 ms per try and starve the
unlucky: one thread per process waits in SQLite, polling every millisecond.
"""

from __future__ import annotations

import contextvars
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from kindpakket.errors import DomainError

_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=True)
BUSY_TIMEOUT_MS = 30_000  # how long a writer waits for the SQLite write lock in all
_BEGIN_POLL_MS = 1  # SQLite busy wait per BEGIN IMMEDIATE try (another process writes)
_writer_locks: dict[str, threading.Lock] = {}
_writer_locks_guard = threading.Lock()
_DOOMED = "kindpakket_doomed"  # session.info key: this unit of work must not commit


def _writer_lock(path: str) -> threading.Lock:
    """Return this process's writer lock for the SQLite file ``path``."""
    with _writer_locks_guard:
        return _writer_locks.setdefault(path, threading.Lock())


class _WriterConnection(sqlite3.Connection):
    """A sqlite3 connection whose write transactions hold the process's writer lock.

    ``begin_write`` takes the lock, then ``BEGIN IMMEDIATE`` (polling briefly while another
    process writes); commit, rollback and close release it after SQLite has finished.
    """

    writer_lock: threading.Lock | None = None
    _holds = False

    def begin_write(self) -> None:
        """Begin a write transaction: the process's lock first, then SQLite's."""
        lock = self.writer_lock
        if lock is None or self._holds:
            self.execute("BEGIN IMMEDIATE")
            return
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        if not lock.acquire(timeout=BUSY_TIMEOUT_MS / 1000):
            raise sqlite3.OperationalError("database is locked")
        self._holds = True
        try:
            self.execute(f"PRAGMA busy_timeout={_BEGIN_POLL_MS}")
            while True:
                try:
                    self.execute("BEGIN IMMEDIATE")
                    break
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or time.monotonic() > deadline:
                        raise
            self.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        if self._holds:
            self._holds = False
            if self.writer_lock is not None:
                self.writer_lock.release()

    def commit(self) -> None:
        """Commit, then let the next writer of this process in."""
        try:
            super().commit()
        finally:
            self._release()

    def rollback(self) -> None:
        """Roll back, then let the next writer of this process in."""
        try:
            super().rollback()
        finally:
            self._release()

    def close(self) -> None:
        """Close (SQLite rolls back an open transaction), releasing the lock."""
        try:
            super().close()
        finally:
            self._release()


def private_file(path: Path) -> None:
    """Create ``path`` readable by its owner only (0600), or take group/other bits off it.

    SQLite gives its -wal and -shm files the mode of the database file, so they follow.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    if path.stat().st_mode & 0o077:
        with suppress(PermissionError):  # someone else's file: theirs to guard
            os.chmod(path, 0o600)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, synchronous=FULL, foreign keys and IMMEDIATE writes."""
    kwargs.setdefault("hide_parameters", True)  # errors and logs never carry names or IBANs
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={
                "timeout": BUSY_TIMEOUT_MS / 1000,
                "check_same_thread": False,
                "factory": _WriterConnection,
            },
            **kwargs,
        )
        database = engine.url.database or ""
        lock = None if database in ("", ":memory:") else _writer_lock(str(Path(database).resolve()))
        if database not in ("", ":memory:") and not database.startswith("file:"):
            private_file(Path(database))

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves, below
            if isinstance(dbapi_conn, _WriterConnection):
                dbapi_conn.writer_lock = lock
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")  # an acknowledged payment survives power loss
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA recursive_triggers=ON")
            cur.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache per connection
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            raw = conn.connection.dbapi_connection
            if not _write_intent.get():
                conn.exec_driver_sql("BEGIN")
            elif isinstance(raw, _WriterConnection):
                raw.begin_write()
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


@contextmanager
def read_only() -> Iterator[None]:
    """Begin transactions inside this block as readers (no SQLite write lock)."""
    token = _write_intent.set(False)
    try:
        yield
    finally:
        _write_intent.reset(token)


@contextmanager
def writing() -> Iterator[None]:
    """Begin transactions inside this block as writers (SQLite: the write lock first).

    For the rare short write a reading request makes in a transaction of its own (a cache it
    keeps: ``admin.reports.views_public``); its own transaction stays a reader.
    """
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


class Refusal:
    """What ``db.refusing()`` caught: the domain error, or None when the block succeeded."""

    error: DomainError | None = None


class Database:
    """The request-scoped session; each app keeps its own engine in ``app.extensions``."""

    def __init__(self) -> None:
        self._before_commit: list[Callable[[Session], None]] = []

    def before_commit(self, hook: Callable[[Session], None]) -> None:
        """Run ``hook(session)`` inside every unit of work just before it commits (once)."""
        if hook not in self._before_commit:
            self._before_commit.append(hook)

    def _commit(self, session: Session) -> None:
        for hook in self._before_commit:
            hook(session)
        session.commit()

    def commit_now(self) -> None:
        """Commit the request's unit of work now, before the answer is composed.

        For writes that hold a hot lock to their commit (a payment holds the ledger's chain
        lock): what the request does after its last write (the answer, the response hooks,
        logging) then runs outside the lock. Anything written afterwards is a new unit of
        work, committed or vetoed at the end of the request as usual. A vetoed unit of work
        is not committed here either.
        """
        session: Session | None = g.get("_kp_session")
        if session is None or session.info.get(_DOOMED):
            return
        self._commit(session)

    def init_app(self, app: Flask) -> None:
        """Create the engine for ``app`` and hook the unit of work into requests."""
        engine = make_engine(app.config["DATABASE_URL"])
        app.extensions["kindpakket_db"] = (
            engine,
            sessionmaker(bind=engine, expire_on_commit=False),
        )

        @app.before_request
        def _intent() -> None:
            from flask import request

            g._kp_intent = _write_intent.set(request.method not in ("GET", "HEAD", "OPTIONS"))

        @app.after_request
        def _finish(response: Response) -> Response:
            session: Session | None = g.pop("_kp_session", None)
            if session is not None:
                try:
                    if not session.in_transaction():
                        pass  # nothing since the last commit (a payment commits before it answers)
                    elif response.status_code < 500 and not session.info.get(_DOOMED):
                        self._commit(session)
                    else:
                        session.rollback()
                finally:
                    session.close()
            return response

        @app.teardown_request
        def _teardown(_exc: BaseException | None) -> None:
            session: Session | None = g.pop("_kp_session", None)
            if session is not None:
                session.rollback()
                session.close()
            token = g.pop("_kp_intent", None)
            if token is not None:
                _write_intent.reset(token)

    @property
    def engine(self) -> Engine:
        """Return the current app's engine."""
        return current_app.extensions["kindpakket_db"][0]  # type: ignore[no-any-return]

    @property
    def sessionmaker(self) -> sessionmaker[Session]:
        """Return the current app's session factory."""
        return current_app.extensions["kindpakket_db"][1]  # type: ignore[no-any-return]

    @property
    def session(self) -> Session:
        """Return the session of the current request or CLI command, opening it lazily."""
        session: Session | None = g.get("_kp_session")
        if session is None:
            session = self.sessionmaker()
            g._kp_session = session
        return session

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """Yield a session for reads made before the request's unit of work writes.

        On SQLite a short read transaction of its own, so that a writing request does not
        hold the write lock while it loads its user; elsewhere the request's own session.
        """
        if self.engine.dialect.name != "sqlite":
            yield self.session
            return
        with read_only(), self.sessionmaker() as session:
            yield session

    def doom(self, session: Session | None = None) -> None:
        """Veto the commit of the current unit of work (or of ``session``): it rolls back."""
        (session or self.session).info[_DOOMED] = True

    def doomed(self, session: Session | None = None) -> bool:
        """Return True when the unit of work (or ``session``) will roll back."""
        return bool((session or self.session).info.get(_DOOMED))

    def note_error(self, err: DomainError, session: Session | None = None) -> None:
        """Doom the unit of work for ``err`` unless the error keeps its work."""
        if not err.keeps_work:
            self.doom(session)

    @contextmanager
    def refusing(self, session: Session | None = None) -> Iterator[Refusal]:
        """Catch a DomainError raised in the block for a view to answer itself.

        The caught error is in ``.error``; unless it keeps its work, the unit of work is
        doomed, so what the block did before the error is rolled back although the answer
        is below 500 (a form shown again with the error).
        """
        caught = Refusal()
        try:
            yield caught
        except DomainError as err:
            self.note_error(err, session)
            caught.error = err

    def start_over(self) -> None:
        """Roll back the request's work so far and lift a veto: what follows is committed.

        For an answer that records why it refused (a refused payment) after undoing the
        attempt, in the same transaction (a second one would deadlock on SQLite's writer).
        """
        session = self.session
        session.rollback()
        session.info.pop(_DOOMED, None)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Open a session outside a request (CLI, jobs): commit on success, else roll back.

        A doomed session rolls back; an error that keeps its work commits it, then goes on.
        """
        session = self.sessionmaker()
        try:
            yield session
            if session.info.get(_DOOMED):
                session.rollback()
            else:
                self._commit(session)
        except DomainError as err:
            if err.keeps_work and not session.info.get(_DOOMED):
                self._commit(session)
            else:
                session.rollback()
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


db = Database()
