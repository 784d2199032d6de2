"""Logs are JSON lines with a request id, shown on error pages; they carry no personal data."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from sqlalchemy.orm import Session

from kindpakket.logs import JsonFormatter
from tests import factories as fx
from tests.merchant.conftest import (
    FAMILY_CODE,
    FAMILY_PIN,
    World,
    family_login,
    key,
    login,
    pay,
    token_for,
)
from wallet.models import Municipality


def _captured(caplog: pytest.LogCaptureFixture) -> list[str]:
    formatter = JsonFormatter()
    return [formatter.format(r) for r in caplog.records]


def test_a_full_journey_logs_no_secret_and_no_personal_data(
    app: Any, session: Session, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    admin = fx.admin_user(session, session.get(Municipality, world.fund.municipality_id))
    session.commit()

    family = app.test_client()
    family_login(family)  # activation code and PIN
    stranger = app.test_client()
    wrong_pin = stranger.post("/wallet/login", data={"code": FAMILY_CODE, "pin": "90210"})
    assert wrong_pin.status_code >= 400

    shop = app.test_client()
    login(shop, world.cashier.email)
    qr = token_for(session, world.keyring, world.vouchers[0])
    paid = pay(shop, token=qr.token, amount_cents=1500).get_json()
    qr2 = token_for(session, world.keyring, world.vouchers[1])
    assert pay(shop, code=qr2.payment_code, amount_cents=700).status_code == 201
    refund = shop.post(
        f"/api/v1/merchant/redemptions/{paid['id']}/refunds",
        json={"amount_cents": 500, "reason": "wrong size", "idempotency_key": key()},
    )
    assert refund.status_code == 201, refund.get_json()

    staff = app.test_client()
    bad = staff.post("/admin/login", data={"email": admin.email, "password": "not-the-password"})
    assert bad.status_code >= 400
    assert staff.post(
        "/admin/login", data={"email": admin.email, "password": fx.PASSWORD}
    ).status_code in (302, 303)
    suspended = staff.post(f"/admin/shops/{world.shop.id}/funds/{world.fund.id}/suspend")
    assert suspended.status_code in (200, 302, 303)
    reissued = staff.post(f"/admin/funds/{world.fund.id}/households/{world.household.id}/code")
    assert reissued.status_code < 500

    lines = _captured(caplog)
    requests = [json.loads(line) for line in lines if '"message": "request"' in line]
    assert len(requests) >= 10
    assert all(r["request_id"] and r["endpoint"] and r["status"] for r in requests)
    assert {"wallet.activate", "admin.login"} <= {r["endpoint"] for r in requests}
    text = "\n".join(lines)
    cookies = [c.value for cl in (family, shop, staff) for c in cl._cookies.values()]
    secrets = [
        FAMILY_CODE,
        FAMILY_CODE.replace("-", ""),
        FAMILY_PIN,
        "90210",
        fx.PASSWORD,
        "not-the-password",
        qr.token,
        qr2.payment_code,
        "Anouk",
        "Daan",
        "Vries",
        "Dorpsstraat",
        "NL91ABNA0417164300",
        "NL02ABNA0123456789",
        world.cashier.email,
        admin.email,
        *cookies,
    ]
    leaked = [s for s in secrets if s and s in text]
    assert leaked == [], f"the logs carry {leaked}"


def test_error_page_shows_the_request_id_to_mention_when_calling(client: Any) -> None:
    answer = client.get("/no-such-page", headers={"Accept-Language": "nl"})
    rid = answer.headers["X-Request-ID"]
    page = answer.get_data(as_text=True)
    assert answer.status_code == 404
    assert "Noem deze code als u belt" in page and rid in page
    english = client.get("/no-such-page?lang=en", headers={"Accept-Language": "en"})
    assert "Mention this code when you call" in english.get_data(as_text=True)


def test_request_id_from_the_client_is_ignored_unless_a_trusted_proxy_sets_it(
    app: Any, client: Any
) -> None:
    sent = {"X-Request-ID": "proxy-given-id-1234"}
    assert client.get("/healthz", headers=sent).headers["X-Request-ID"] != "proxy-given-id-1234"
    app.config["REQUEST_ID_FROM_PROXY"] = True
    from kindpakket import create_app

    behind = create_app({**app.config, "REQUEST_ID_FROM_PROXY": True}).test_client()
    assert behind.get("/healthz", headers=sent).headers["X-Request-ID"] == "proxy-given-id-1234"
    odd = {"X-Request-ID": "<script>"}
    assert behind.get("/healthz", headers=odd).headers["X-Request-ID"] != "<script>"


def test_the_development_servers_request_lines_with_query_strings_are_not_logged() -> None:
    """``make demo`` serves with werkzeug, whose access line holds ``?code=KP-…`` links."""
    from werkzeug.serving import WSGIRequestHandler

    from kindpakket import logs

    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    saved_levels = {n: logging.getLogger(n).level for n in logs.QUIET_LOGGERS}
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    try:
        root.handlers = []
        logs.install("INFO")
        root.addHandler(Keep())
        handler = WSGIRequestHandler.__new__(WSGIRequestHandler)
        handler.requestline = "GET /wallet/activate?code=KP-AAAA-BBBB-CCCC-DDDD HTTP/1.1"
        handler.client_address = ("127.0.0.1", 5000)
        handler.log_request(200)  # what the development server does after every request
        logging.getLogger("kindpakket.request").info("request")  # our own line still flows
    finally:
        root.handlers, root.level = saved
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)
    text = " ".join(r.getMessage() for r in records)
    assert "KP-AAAA" not in text
    assert [r.name for r in records] == ["kindpakket.request"]
