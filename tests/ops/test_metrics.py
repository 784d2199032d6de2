"""/metrics: behind a bearer token; counters move when payments, refusals and logins happen."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session

from tests.merchant.conftest import World, login, pay, token_for
from tests.ops.conftest import pay_once

TOKEN = "scrape-token-for-tests-0123456789"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """An app with /metrics switched on."""
    return {**app_config, "METRICS_TOKEN": TOKEN}


def _scrape(client: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    values = {}
    for family in text_string_to_metric_families(answer.get_data(as_text=True)):
        for s in family.samples:
            values[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return values


def _delta(before: dict[Any, float], after: dict[Any, float], name: str, **labels: str) -> float:
    k = (name, tuple(sorted(labels.items())))
    return after.get(k, 0.0) - before.get(k, 0.0)


def test_metrics_need_the_bearer_token(client: Any) -> None:
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


def test_metrics_are_off_without_a_token(app_config: dict[str, Any]) -> None:
    from kindpakket import create_app

    off = create_app({**app_config, "METRICS_TOKEN": None})
    assert off.test_client().get("/metrics").status_code == 404


def test_payments_refusals_logins_and_the_ledger_move_the_metrics(
    client: Any, session: Session, world: World
) -> None:
    before = _scrape(client)
    login(client, world.cashier.email)
    for _ in range(3):
        assert pay_once(client, world).status_code == 201
    qr = token_for(session, world.keyring, world.vouchers[0])
    assert pay(client, token=qr.token, amount_cents=100).status_code == 201
    assert pay(client, token=qr.token, amount_cents=100).status_code == 409  # used twice
    client.post("/admin/login", data={"email": "nobody@example.org", "password": "x" * 12})
    after = _scrape(client)

    assert _delta(before, after, "kindpakket_payments_total", outcome="paid", code="") == 4
    assert (
        _delta(before, after, "kindpakket_payments_total", outcome="refused", code="token_used")
        == 1
    )
    assert _delta(before, after, "kindpakket_login_failures_total", door="admin") == 1
    assert _delta(before, after, "kindpakket_chain_lock_wait_seconds_count") >= 4
    assert _delta(before, after, "kindpakket_ledger_entries") == 4
    route = {"endpoint": "merchant_api.Redemptions", "method": "POST", "status": "201"}
    counted = [
        v
        for (name, labels), v in after.items()
        if name == "kindpakket_http_requests_total" and dict(labels).get("status") == "201"
    ]
    assert counted, route
    assert not any("/api/v1/merchant/redemptions" in str(k) for k in after)  # routes, not paths
    assert after[("kindpakket_checkpoint_size", ())] >= 0
