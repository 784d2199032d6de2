"""The unit of work: a domain error vetoes the commit unless it keeps its work."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from kindpakket.audit import AuditEvent, record_event
from kindpakket.db import db
from kindpakket.errors import DomainError


def _events(app: Flask, name: str) -> int:
    with app.app_context(), db.transaction() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.name == name)
            )
            or 0
        )


@pytest.fixture
def routes(app: Flask) -> Flask:
    """Add pages that write an audit event, then meet an error (kept or not)."""

    def work_then(keeps: bool) -> None:
        record_event(db.session, "test.partial", actor="test")
        raise DomainError("test_refused", "refused", keeps_work=keeps)

    @app.post("/test/caught/<kind>")
    def caught(kind: str) -> Any:
        with db.refusing() as refused:
            work_then(kind == "keep")
        assert refused.error is not None
        return f"form again: {refused.error.code}", 200

    @app.post("/test/raised/<kind>")
    def raised(kind: str) -> Any:
        work_then(kind == "keep")

    @app.post("/test/fine")
    def fine() -> Any:
        with db.refusing() as refused:
            record_event(db.session, "test.partial", actor="test")
        assert refused.error is None
        return "done", 200

    return app


def test_a_caught_error_rerendered_does_not_commit_the_work_before_it(routes: Flask) -> None:
    answer = routes.test_client().post("/test/caught/drop")
    assert answer.status_code == 200 and b"test_refused" in answer.data
    assert _events(routes, "test.partial") == 0


def test_a_caught_error_that_keeps_its_work_commits_it(routes: Flask) -> None:
    assert routes.test_client().post("/test/caught/keep").status_code == 200
    assert _events(routes, "test.partial") == 1


def test_an_error_answered_by_the_shell_rolls_back_unless_it_keeps_its_work(
    routes: Flask,
) -> None:
    client = routes.test_client()
    assert (
        client.post("/test/raised/drop", headers={"Accept": "application/json"}).status_code == 400
    )
    assert _events(routes, "test.partial") == 0
    answer = client.post("/test/raised/keep", headers={"Accept": "application/json"})
    assert answer.status_code == 400 and answer.json["error"]["code"] == "test_refused"
    assert _events(routes, "test.partial") == 1


def test_a_block_without_error_commits(routes: Flask) -> None:
    assert routes.test_client().post("/test/fine").status_code == 200
    assert _events(routes, "test.partial") == 1


def test_a_cli_transaction_rolls_back_a_refusal_and_keeps_work_that_says_so(app: Flask) -> None:
    with app.app_context():
        with pytest.raises(DomainError), db.transaction() as session:
            record_event(session, "test.cli", actor="cli")
            raise DomainError("test_refused", "refused")
        assert _events(app, "test.cli") == 0
        with pytest.raises(DomainError), db.transaction() as session:
            record_event(session, "test.cli", actor="cli")
            raise DomainError("test_counted", "counted", keeps_work=True)
        assert _events(app, "test.cli") == 1
        with db.transaction() as session:
            record_event(session, "test.cli", actor="cli")
            with db.refusing(session) as refused:
                raise DomainError("test_refused", "refused")
        assert refused.error is not None and _events(app, "test.cli") == 1


def test_a_code_has_one_status_and_faults_answer_500() -> None:
    import merchant  # noqa: F401  (registers the merchant's statuses)
    from kindpakket.errors import ServerFault, register_statuses, status_of

    assert (
        DomainError("insufficient_balance", "x").status == 409 == status_of("insufficient_balance")
    )
    assert DomainError("not_registered_anywhere", "x").status == 400
    assert ServerFault("schema_invalid", "x").status == 500
    register_statuses({"insufficient_balance": 409})  # the same again is fine
    with pytest.raises(ValueError, match="insufficient_balance"):
        register_statuses({"insufficient_balance": 400})
