"""Wallet pages and JSON API through the test client: login, ownership, devices, keys."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy.orm import Session

from kindpakket.keys import Keyring
from tests.wallet.conftest import CODE, OTHER_CODE, PIN, World, activate
from wallet import services
from wallet.models import FamilySession, Household


def pin_failures(session: Session, household_id: int) -> int:
    """Read the committed failure count, then end the read (SQLite: free the write lock)."""
    session.rollback()
    session.expire_all()
    value = session.get(Household, household_id).pin_failures
    session.rollback()
    return value


def test_activation_link_prefills_the_code(client, world: World) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/wallet/activate?code=kp7f3kq9xm2hdt8wnc").get_data(as_text=True)
    assert f'value="{CODE}"' in page
    assert 'lang="nl"' in page and "Kies een pincode" in page


def test_activate_then_see_budgets(client, world: World) -> None:  # type: ignore[no-untyped-def]
    response = activate(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/wallet/")
    home = client.get("/wallet/").get_data(as_text=True)
    assert "Anouk" in home and "Daan" in home and "€ 300,00" in home
    assert "Sem" not in home  # the other family's child
    listed = client.get("/api/v1/wallet/vouchers").get_json()["vouchers"]
    assert [v["voucher_id"] for v in listed] == [v.id for v in world.vouchers]
    assert listed[0]["balance_cents"] == 30_000 and listed[0]["balance"] == "€ 300,00"
    english = client.get("/wallet/?lang=en").get_data(as_text=True)
    assert "Remaining" in english and "€300.00" in english


def test_pages_and_api_need_a_login(client, world: World) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/wallet/").status_code == 302
    api = client.post(f"/api/v1/wallet/vouchers/{world.vouchers[0].id}/token")
    assert api.status_code == 401 and api.get_json()["error"]["code"] == "login_required"


def test_login_with_code_and_pin_and_wrong_pins_are_counted(  # type: ignore[no-untyped-def]
    app, client, session: Session, world: World
) -> None:
    activate(client)
    other = app.test_client()
    wrong = other.post("/wallet/login", data={"code": CODE, "pin": "99999"})
    assert wrong.status_code == 401 and "nog 4 keer" in wrong.get_data(as_text=True)
    assert pin_failures(session, world.household.id) == 1  # committed despite the refusal
    ok = other.post("/wallet/login", data={"code": CODE.lower(), "pin": PIN})
    assert ok.status_code == 302
    assert "Anouk" in other.get("/wallet/").get_data(as_text=True)


def test_lockout_message_names_the_minutes(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    app.config["PIN_MAX_ATTEMPTS"] = 3
    app.config["PIN_LOCKOUT_SECONDS"] = 600
    activate(client)
    other = app.test_client()
    for _ in range(2):
        assert other.post("/wallet/login", data={"code": CODE, "pin": "99999"}).status_code == 401
    locked = other.post("/wallet/login", data={"code": CODE, "pin": "99999"})
    text = locked.get_data(as_text=True)
    assert locked.status_code == 429 and "10 minuten" in text and 'role="alert"' in text
    still = other.post(
        "/wallet/login", data={"code": CODE, "pin": PIN}, query_string={"lang": "en"}
    )
    assert still.status_code == 429 and "Try again in 10 minutes" in still.get_data(as_text=True)


def test_a_family_sees_only_its_own_children(client, world: World) -> None:  # type: ignore[no-untyped-def]
    activate(client)
    theirs = world.other_vouchers[0].id
    assert client.get(f"/wallet/pay/{theirs}").status_code == 404
    assert client.post(f"/wallet/pay/{theirs}").status_code == 404
    assert client.get(f"/api/v1/wallet/vouchers/{theirs}").status_code == 404
    for path in ("token", "block"):
        answer = client.post(f"/api/v1/wallet/vouchers/{theirs}/{path}")
        assert answer.status_code == 404
        assert answer.get_json()["error"]["code"] == "voucher_not_found"
    assert (
        client.post(f"/api/v1/wallet/vouchers/{theirs}/unblock", json={"pin": PIN}).status_code
        == 404
    )
    assert client.post(f"/wallet/vouchers/{theirs}/block").status_code == 404
    assert client.get(f"/wallet/vouchers/{theirs}/unblock").status_code == 404
    assert client.get("/api/v1/wallet/history").get_json() == {"items": []}


def test_token_api_gives_a_code_the_verifier_accepts(  # type: ignore[no-untyped-def]
    app, client, session: Session, world: World
) -> None:
    activate(client)
    voucher = world.vouchers[0]
    answer = client.post(f"/api/v1/wallet/vouchers/{voucher.id}/token")
    assert answer.status_code == 201
    body = answer.get_json()
    assert body["ttl"] == 120 and 110 <= body["expires_in"] <= 120
    assert body["qr_svg"].startswith("data:image/svg+xml;base64,")
    assert body["payment_code_display"].replace(" ", "") == body["payment_code"]
    assert "Anouk" in body["qr_alt"]
    ring = Keyring(Path(app.config["KEY_DIR"]))
    payload, found = services.verify_payment_token(
        session, body["token"], now=None, keyring=ring, skew=5
    )
    assert found.id == voucher.id and payload.kid == body["kid"]
    vid = voucher.id
    session.rollback()  # end the read: SQLite allows one writer
    page = client.get(f"/wallet/pay/{vid}").get_data(as_text=True)
    assert "pay.js" in page and f"/api/v1/wallet/vouchers/{vid}/token" in page
    nojs = client.post(f"/wallet/pay/{vid}").get_data(as_text=True)
    assert 'src="data:image/svg+xml;base64,' in nojs and "KP1:" in nojs


def test_block_and_unblock_through_the_api(  # type: ignore[no-untyped-def]
    client, session: Session, world: World
) -> None:
    activate(client)
    vid = world.vouchers[0].id
    assert client.post(f"/api/v1/wallet/vouchers/{vid}/block").get_json()["status"] == "blocked"
    refused = client.post(f"/api/v1/wallet/vouchers/{vid}/token")
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "voucher_blocked"
    wrong = client.post(f"/api/v1/wallet/vouchers/{vid}/unblock", json={"pin": "99999"})
    assert wrong.status_code == 401 and wrong.get_json()["error"]["code"] == "pin_wrong"
    assert pin_failures(session, world.household.id) == 1
    ok = client.post(f"/api/v1/wallet/vouchers/{vid}/unblock", json={"pin": PIN})
    assert ok.status_code == 200 and ok.get_json()["status"] == "active"


def test_a_revoked_device_is_logged_out_on_its_next_request(  # type: ignore[no-untyped-def]
    app, client, session: Session, world: World
) -> None:
    activate(client)
    lost = app.test_client()
    assert lost.post("/wallet/login", data={"code": CODE, "pin": PIN}).status_code == 302
    devices = client.get("/api/v1/wallet/sessions").get_json()["devices"]
    assert len(devices) == 2 and sum(d["current"] for d in devices) == 1
    lost_id = next(d["id"] for d in devices if not d["current"])
    assert client.delete(f"/api/v1/wallet/sessions/{lost_id}").status_code == 204
    assert lost.get("/api/v1/wallet/vouchers").status_code == 401
    assert lost.get("/wallet/").status_code == 302
    assert client.get("/api/v1/wallet/vouchers").status_code == 200
    page = client.get("/wallet/devices").get_data(as_text=True)
    assert "Dit apparaat uitloggen" in page
    assert client.post("/wallet/logout").status_code == 302
    assert client.get("/api/v1/wallet/vouchers").status_code == 401
    session.rollback()
    session.expire_all()
    rows = session.query(FamilySession).filter_by(household_id=world.household.id).all()
    assert rows and all(r.revoked_at is not None for r in rows)
    session.rollback()


def test_block_page_flow(client, world: World) -> None:  # type: ignore[no-untyped-def]
    activate(client)
    vid = world.vouchers[1].id
    assert client.post(f"/wallet/vouchers/{vid}/block").status_code == 302
    assert "Geblokkeerd" in client.get("/wallet/").get_data(as_text=True)
    wrong = client.post(f"/wallet/vouchers/{vid}/unblock", data={"pin": "99999"})
    assert wrong.status_code == 401 and 'role="alert"' in wrong.get_data(as_text=True)
    assert client.post(f"/wallet/vouchers/{vid}/unblock", data={"pin": PIN}).status_code == 302
    assert "Geblokkeerd" not in client.get("/wallet/").get_data(as_text=True)


def test_keys_cli_and_public_keys(app, cli, client) -> None:  # type: ignore[no-untyped-def]
    first = cli("keys", "generate")
    assert first.exit_code == 0, first.output
    assert cli("keys", "generate").exit_code == 2  # a valid key exists: use rotate
    assert cli("keys", "rotate", "--overlap-seconds", "600").exit_code == 0
    listing = cli("keys", "list")
    ring = Keyring(Path(app.config["KEY_DIR"]))
    kids = [k.kid for k in ring.list()]
    assert len(kids) == 2 and all(kid in listing.output for kid in kids)
    for key in ring.list():
        path = Path(app.config["KEY_DIR"]) / key.filename
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        secret = path.read_text().strip()
        assert secret not in listing.output and secret not in first.output
    published = client.get("/api/v1/keys").get_json()["keys"]
    assert {k["kid"] for k in published} >= set(kids)


def test_openapi_documents_the_wallet_api(client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    assert "/api/v1/wallet/vouchers/{voucher_id}/token" in paths
    assert "/api/v1/wallet/history" in paths and "/api/v1/wallet/sessions/{session_id}" in paths


def test_second_household_logs_in_with_its_own_code(client, world: World) -> None:  # type: ignore[no-untyped-def]
    assert activate(client, OTHER_CODE, "73915").status_code == 302
    home = client.get("/wallet/").get_data(as_text=True)
    assert "Sem" in home and "Anouk" not in home


def test_login_posts_are_rate_limited_per_address(client, world: World) -> None:  # type: ignore[no-untyped-def]
    answers = [client.post("/wallet/login", data={}).status_code for _ in range(11)]
    assert answers[:10] == [400] * 10  # an empty form: refused, and counted
    assert answers[10] == 429
