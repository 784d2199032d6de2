"""Pass pages: the municipality prints, blocks, replaces and re-PINs; the family blocks and
orders; the public balance page asks pass number and PIN."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kindpakket.audit import AuditEvent
from tests import factories as fx
from tests.merchant.conftest import World, family_login, login, pay
from wallet import passes
from wallet.passcode import format_number
from wallet.passmodels import Pass, PassRequest


def _admin(app: Any, session: Session, world: World) -> Any:
    fx.admin_user(session, world.fund.municipality)
    session.commit()
    client = app.test_client()
    response = client.post(
        "/admin/login", data={"email": "beheer@voorbeeld.example", "password": fx.PASSWORD}
    )
    assert response.status_code == 302
    return client


def _events(session: Session, name: str) -> int:
    return int(session.scalar(select(func.count()).where(AuditEvent.name == name)) or 0)


def test_the_municipality_prints_blocks_replaces_and_sends_a_new_pin(
    app: Any, session: Session, world: World
) -> None:
    admin = _admin(app, session, world)
    fund = world.fund.id
    page = admin.get(f"/admin/passes/{fund}").get_data(as_text=True)
    assert "Households that do not pay yet: 1" in page or "nog niet betalen: 1" in page
    download = admin.post(f"/admin/passes/{fund}/print", data={"layout": "a4", "language": "en"})
    assert download.status_code == 200 and download.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(download.data)).namelist()
    assert names == [f"passes-{fund}.pdf", f"passes-{fund}-pincodes.pdf"]
    assert download.headers["Cache-Control"] == "no-store"
    card = session.scalars(select(Pass)).one()
    page = admin.get(f"/admin/passes/{fund}?lang=en").get_data(as_text=True)
    assert "Households that pay with a pass: 1" in page
    assert format_number(card.number) in page
    again = admin.post(f"/admin/passes/{fund}/print", data={"layout": "a4", "language": "en"})
    assert again.status_code == 302  # nothing left to print
    new = admin.post(
        f"/admin/passes/{fund}/passes/{card.id}/replace", data={"layout": "card", "language": "nl"}
    )
    assert new.status_code == 200 and new.mimetype == "application/pdf"  # same PIN: no letter
    session.rollback()  # a new read transaction sees the request's commit
    assert session.get(Pass, card.id).status == "replaced"  # type: ignore[union-attr]
    fresh = session.scalars(select(Pass).where(Pass.status == "active")).one()
    assert admin.post(f"/admin/passes/{fund}/passes/{fresh.id}/block").status_code == 302
    session.rollback()  # a new read transaction sees the request's commit
    assert session.get(Pass, fresh.id).status == "blocked"  # type: ignore[union-attr]
    letter = admin.post(
        f"/admin/passes/{fund}/households/{world.household.id}/pin",
        data={"layout": "card", "language": "nl"},
    )
    assert letter.status_code == 200 and letter.data.startswith(b"%PDF")
    session.rollback()
    for name in (
        "fund.passes_issued",
        "pass.replaced",
        "pass.blocked",
        "household.pass_pin_issued",
    ):
        assert _events(session, name) == 1, name


def test_the_family_orders_a_pass_and_blocks_it_when_it_is_lost(
    app: Any, client: Any, session: Session, world: World
) -> None:
    family_login(client)
    home = client.get("/wallet/").get_data(as_text=True)
    assert "/wallet/passes/request" in home
    assert client.post("/wallet/passes/request").status_code == 302
    assert client.post("/wallet/passes/request").status_code == 302  # told it is on its way
    assert session.scalar(select(func.count()).select_from(PassRequest)) == 1
    admin = _admin(app, session, world)
    page = admin.get(f"/admin/passes/{world.fund.id}?lang=en").get_data(as_text=True)
    assert "asked for a pass" in page and "Open requests for a pass: 1" in page
    admin.post(
        f"/admin/passes/{world.fund.id}/households/{world.household.id}/print",
        data={"layout": "card", "language": "nl"},
    )
    session.rollback()
    card = session.scalars(select(Pass)).one()
    home = client.get("/wallet/").get_data(as_text=True)
    assert passes.pass_by_number(session, card.number) is not None
    assert f"/wallet/passes/{card.id}/block" in home
    assert client.post(f"/wallet/passes/{card.id}/block").status_code == 302
    session.rollback()  # a new read transaction sees the request's commit
    assert session.get(Pass, card.id).status == "blocked"  # type: ignore[union-attr]
    login(shop := app.test_client(), world.cashier.email)
    code = passes.pass_code(world.keyring, card.id)
    refused = pay(shop, token=code, pin="27183", amount_cents=100).get_json()["error"]
    assert refused["code"] == "pass_blocked"
    assert _events(session, "household.pass_requested") == 1


def test_the_balance_page_shows_the_budgets_after_pass_number_and_pin(
    client: Any, session: Session, world: World
) -> None:
    issued = passes.issue_passes(session, world.fund, world.keyring, actor="cli")[0]
    session.commit()
    form = client.get("/pass?lang=en").get_data(as_text=True)
    assert 'name="number"' in form and 'type="password"' in form
    number = f"{issued.number[:4]} {issued.number[4:8]} {issued.number[8:]}"
    shown = client.post("/pass?lang=en", data={"number": number, "pin": issued.pin})
    assert shown.status_code == 200
    text = shown.get_data(as_text=True)
    assert "€300.00" in text and "Anouk" in text and "Daan" in text
    wrong = client.post("/pass?lang=en", data={"number": number, "pin": "97531"})
    assert wrong.status_code == 401 and "pass number or the PIN is not right" in wrong.get_data(
        as_text=True
    )
    unknown = client.post("/pass?lang=en", data={"number": "1111 1111 1111", "pin": "97531"})
    assert unknown.status_code == 401
    client.post("/pass", data={"number": number, "pin": "97532"})
    client.post("/pass", data={"number": number, "pin": "97533"})
    blocked = client.post("/pass?lang=en", data={"number": number, "pin": issued.pin})
    assert blocked.status_code == 409 and "call the municipality" in blocked.get_data(as_text=True)
