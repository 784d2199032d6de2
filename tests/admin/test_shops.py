"""Shop approval per fund: services, /admin/shops pages (tenant-guarded), CLI commands."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.shops import cli as cli_shops
from admin.shops import services as shops
from kindpakket.audit import AuditEvent
from kindpakket.errors import DomainError
from ledger import store
from merchant.models import Shop, ShopApproval, payable_account
from tests import factories as fx


@pytest.fixture
def shop_app(app: Any) -> Any:
    """The app (the shop-approval pages are registered by the factory)."""
    return app


@pytest.fixture
def setup(session: Session) -> dict[str, Any]:
    """Two municipalities with a fund each, and one pending shop."""
    m = fx.municipality(session)
    fund = fx.fund(session, m)
    other_m = fx.municipality(session, slug="elders", name="Gemeente Elders")
    other_fund = fx.fund(session, other_m, name="Elders 2026")
    shop, owner, _ = fx.shop(session, None, approval=None)
    shop.status = "pending"
    admin = fx.admin_user(session, m)
    viewer = fx.admin_user(session, m, email="kijker@voorbeeld.example", role="viewer")
    session.commit()
    return {
        "m": m,
        "fund": fund,
        "other_fund": other_fund,
        "shop": shop,
        "owner": owner,
        "admin": admin,
        "viewer": viewer,
    }


def _login(client: Any, email: str) -> None:
    response = client.post("/admin/login", data={"email": email, "password": fx.PASSWORD})
    assert response.status_code == 302


def test_approve_opens_the_payable_account_and_is_audited(session: Session, setup: Any) -> None:
    approval = shops.approve(session, setup["shop"], setup["fund"], actor="admin:1")
    assert approval.status == "approved" and setup["shop"].status == "active"
    assert store.balance(session, payable_account(setup["shop"].id, setup["fund"].id)) == 0
    event = session.scalars(select(AuditEvent).where(AuditEvent.name == "shop.approved")).one()
    assert event.municipality_ids == {setup["m"].id} and event.after["fund"] == setup["fund"].id


def test_reject_and_suspend_need_a_reason(session: Session, setup: Any) -> None:
    with pytest.raises(DomainError) as err:
        shops.reject(session, setup["shop"], setup["fund"], "  ", actor="cli")
    assert err.value.code == "reason_required"
    with pytest.raises(DomainError):
        shops.suspend_shop(session, setup["shop"], "", actor="cli")
    shops.reject(session, setup["shop"], setup["fund"], "Geen kinderartikelen", actor="cli")
    row = session.scalars(select(ShopApproval)).one()
    assert row.status == "rejected" and row.reason == "Geen kinderartikelen"


def test_admin_approves_and_rejects_per_fund_of_own_municipality_only(
    shop_app: Any, session: Session, setup: Any
) -> None:
    client = shop_app.test_client()
    _login(client, setup["admin"].email)
    listing = client.get("/admin/shops/").get_data(as_text=True)
    assert setup["shop"].name in listing and "Elders 2026" not in listing
    shop_id, fund_id = setup["shop"].id, setup["fund"].id
    ok = client.post(f"/admin/shops/{shop_id}/funds/{fund_id}/approve", data={})
    assert ok.status_code == 302
    foreign = client.post(f"/admin/shops/{shop_id}/funds/{setup['other_fund'].id}/approve")
    assert foreign.status_code == 404
    no_reason = client.post(f"/admin/shops/{shop_id}/funds/{fund_id}/suspend", data={})
    assert no_reason.status_code == 302
    session.expire_all()
    assert session.scalars(select(ShopApproval)).one().status == "approved"
    session.rollback()  # end the test's read: SQLite lets one writer in at a time
    client.post(f"/admin/shops/{shop_id}/funds/{fund_id}/suspend", data={"reason": "Klachten"})
    session.expire_all()
    row = session.scalars(select(ShopApproval)).one()
    assert (row.status, row.reason, row.fund_id) == ("suspended", "Klachten", fund_id)
    assert row.decided_by == f"admin:{setup['admin'].id}"


def test_viewer_may_read_but_not_decide(shop_app: Any, session: Session, setup: Any) -> None:
    client = shop_app.test_client()
    _login(client, setup["viewer"].email)
    assert client.get(f"/admin/shops/{setup['shop'].id}").status_code == 200
    url = f"/admin/shops/{setup['shop'].id}/funds/{setup['fund'].id}/approve"
    assert client.post(url).status_code == 403
    assert session.scalars(select(ShopApproval)).first() is None


def test_cli_approve_reject_suspend_list(shop_app: Any, session: Session, setup: Any) -> None:
    runner = shop_app.test_cli_runner()
    kvk, fund_id = setup["shop"].kvk, str(setup["fund"].id)
    approved = runner.invoke(cli_shops.shop_group, ["approve", kvk, fund_id])
    assert approved.exit_code == 0, approved.output
    listed = runner.invoke(cli_shops.shop_group, ["list"])
    assert f"{fund_id}=approved" in listed.output and kvk in listed.output
    rejected = runner.invoke(
        cli_shops.shop_group,
        ["reject", kvk, str(setup["other_fund"].id), "--reason", "Buiten de gemeente"],
    )
    assert rejected.exit_code == 0
    unknown = runner.invoke(cli_shops.shop_group, ["approve", "99999999", fund_id])
    assert unknown.exit_code == 2 and "shop_not_found" in unknown.output
    suspended = runner.invoke(cli_shops.shop_group, ["suspend", str(setup["shop"].id)])
    assert suspended.exit_code == 0
    session.expire_all()
    assert session.get(Shop, setup["shop"].id).status == "suspended"  # type: ignore[union-attr]
    statuses = {a.fund_id: a.status for a in session.scalars(select(ShopApproval))}
    assert statuses == {setup["fund"].id: "approved", setup["other_fund"].id: "rejected"}
