"""Schemathesis against /api/v1/openapi.json, in process: no server error from any input.

Every operation is called as each kind of user (anonymous, a family's wallet session, shop
staff, municipality staff) with CSRF on, as a browser would, and every answer must match
the spec: status code, content type and body schema. Hypothesis runs derandomized, so a
run is repeatable.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session

from kindpakket import create_app
from tests import factories as fx
from tests.merchant.conftest import FAMILY_CODE, FAMILY_PIN, build_world

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
ROLES = ("anonymous", "family", "shop", "municipality")
# Cases per operation and role (operations without inputs stop sooner), and the least total
# on each engine (PostgreSQL is where NUL bytes and INTEGER ranges bite).
EXAMPLES = {"sqlite": 30, "postgresql": 30}
MIN_CASES = {"sqlite": 1000, "postgresql": 1000}
# What each role gets from the family's budgets: proves the session is the one meant.
VOUCHERS_STATUS = {"anonymous": 401, "family": 200, "shop": 403, "municipality": 403}
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def _csrf(client: FlaskClient, page: str) -> str:
    """Return the CSRF token of the session, read from a page as the browser does."""
    html = client.get(page).get_data(as_text=True)
    found = CSRF_META.search(html)
    assert found, f"no CSRF token on {page}"
    return found.group(1)


def _login(client: FlaskClient, role: str) -> str:
    """Log ``client`` in as ``role`` through its login page; return the CSRF token."""
    if role == "family":
        token = _csrf(client, "/wallet/activate")
        form = {"code": FAMILY_CODE, "pin": FAMILY_PIN, "pin_again": FAMILY_PIN}
        response = client.post("/wallet/activate", data={**form, "csrf_token": token})
    elif role == "shop":
        token = _csrf(client, "/merchant/login")
        form = {"email": "kassa@spaak.example", "password": fx.PASSWORD}
        response = client.post("/merchant/login", data={**form, "csrf_token": token})
    elif role == "municipality":
        token = _csrf(client, "/admin/login")
        form = {"email": "beheer@voorbeeld.example", "password": fx.PASSWORD}
        response = client.post("/admin/login", data={**form, "csrf_token": token})
    else:
        return _csrf(client, "/wallet/activate")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return _csrf(client, "/")


@pytest.fixture
def fuzz_app(app_config: dict[str, Any], session: Session, keyring: Any) -> Flask:
    """An app with CSRF on, a funded family, an approved shop and municipality staff."""
    world = build_world(session, keyring)
    fx.admin_user(session, world.fund.municipality)
    session.commit()
    app = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    return app


@pytest.fixture
def keyring(app_config: dict[str, Any]) -> Any:
    """The keyring of the test app, with a token key."""
    from pathlib import Path

    from kindpakket.keys import Keyring

    ring = Keyring(Path(str(app_config["INSTANCE_DIR"])) / "keys")
    ring.ensure("token")
    return ring


def _run(
    schema: Any, operation: Any, headers: dict[str, str], cookies: dict[str, str], examples: int
) -> int:
    """Fuzz one operation with one user's session; return the number of cases sent."""
    sent = 0

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def fuzz(case: Any) -> None:
        nonlocal sent
        sent += 1
        response = case.call(headers=headers, cookies=cookies)
        case.validate_response(response, checks=CHECKS)

    fuzz()
    return sent


@pytest.mark.slow  # ~40 s per engine on a busy 2-core machine; part of the normal suite
def test_every_operation_as_every_role_answers_as_the_spec_says(
    fuzz_app: Flask, database_url: str
) -> None:
    engine = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 18
    cookie_name = fuzz_app.config["SESSION_COOKIE_NAME"]
    sent: dict[str, int] = {}
    failures: list[str] = []
    for role in ROLES:
        client = fuzz_app.test_client()
        token = _login(client, role)
        assert client.get("/api/v1/wallet/vouchers").status_code == VOUCHERS_STATUS[role]
        cookie = client.get_cookie(cookie_name)
        assert cookie is not None
        headers = {"X-CSRFToken": token}
        cookies = {cookie_name: cookie.value}
        for operation in operations:
            key = f"{role} {operation.method.upper()} {operation.path}"
            try:
                sent[key] = _run(schema, operation, headers, cookies, EXAMPLES[engine])
            except Exception as exc:  # every failing operation is reported, not just the first
                failures.append(f"{key}: {exc}")

    total = sum(sent.values())
    print(f"schemathesis on {engine}: {total} cases, {len(operations)} operations x 4 roles")
    assert not failures, "\n\n".join(failures)
    assert total >= MIN_CASES[engine], sent


def test_the_spec_promises_our_error_body_and_no_catch_all(app: Flask) -> None:
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    error = {"$ref": "#/components/schemas/Error"}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            responses = operation["responses"]
            assert "default" not in responses, (method, path)
            assert any(code.startswith("2") for code in responses), (method, path)
            for code, response in responses.items():
                if "$ref" in response:
                    response = spec["components"]["responses"][response["$ref"].split("/")[-1]]
                if int(code) >= 400:
                    assert response["content"]["application/json"]["schema"] == error
    detail = spec["components"]["schemas"]["ErrorDetail"]
    assert detail["required"] == ["code", "message"]
    for path in ("/api/v1/keys", "/api/v1/ledger/head"):
        assert (
            "schema"
            in spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        )
