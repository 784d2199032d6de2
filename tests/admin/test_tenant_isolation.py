"""Tenant isolation: no /admin page shows or changes another municipality's fund.

The test walks ``app.url_map``, so pages added later under /admin are covered too: every
rule with an id argument is called with the other municipality's ids, by an administrator
of this one, with each method the rule accepts; the answer must be 403 or 404.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from admin.settlement import services as settlement
from kindpakket.time import today as amsterdam_today
from tests.admin import workload as w

rapp = w.rapp  # fixture


# Shops are installation-wide (a shop applies once and each municipality decides for its
# own funds): their page opens for every administrator but shows only its own decisions.
SHARED = {("GET", "/admin/shops/<int:shop_id>")}


def _foreign_ids(engine: Engine) -> dict[str, int]:
    """Seed both municipalities; return ids of the other one's objects, by argument name."""
    with Session(engine, expire_on_commit=False) as s:
        world = w.seed(s)
        household, vouchers = w.f.family(s, world.other_fund, reference="X-1")
        redemption = w.pay(s, world.other_fund, world.other_shop, vouchers[0], 500)
        world.other_shop.iban = "NL18RABO0123459876"
        batch = settlement.settle(s, world.other_fund, until=amsterdam_today(), actor="test")
        s.commit()
        return {
            "fund_id": world.other_fund.id,
            "batch_id": batch.id,
            "household_id": household.id,
            "child_id": vouchers[0].child_id,
            "voucher_id": vouchers[0].id,
            "shop_id": world.other_shop.id,
            "redemption_id": redemption.id,
            "municipality_id": world.other_fund.municipality_id,
            "other_fund_name": world.other_fund.name,  # type: ignore[dict-item]
        }


def _value(rule, argument: str, foreign: dict[str, int]) -> object:  # type: ignore[no-untyped-def]
    """Return the foreign id for an id argument, or an allowed word for an ``any(...)`` one."""
    items = getattr(rule._converters.get(argument), "items", None)
    if items:
        return sorted(items)[0]
    return foreign.get(argument, foreign["fund_id"])


def test_every_admin_route_refuses_another_municipalitys_ids(rapp: Flask, engine: Engine) -> None:
    foreign = _foreign_ids(engine)
    client = w.login(rapp.test_client())
    checked = []
    for rule in rapp.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or not rule.arguments:
            continue
        if rule.endpoint.endswith(".static"):
            continue
        values = {a: _value(rule, a, foreign) for a in rule.arguments}
        with rapp.test_request_context():
            url = rapp.url_for(rule.endpoint, **values)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={})
            if (method, rule.rule) in SHARED:
                assert response.status_code == 200
                assert foreign["other_fund_name"] not in response.get_data(as_text=True)
                continue
            assert response.status_code in (403, 404), (method, url, response.status_code)
            checked.append((method, rule.rule))
    # The pages of this work are among those checked.
    rules = {r for _, r in checked}
    assert "/admin/reports/<int:fund_id>" in rules
    assert "/admin/settlement/<int:fund_id>/batches/<int:batch_id>/cancel" in rules
    assert len(checked) >= 8


def test_own_fund_opens(rapp: Flask, engine: Engine) -> None:
    with Session(engine) as s:
        world = w.seed(s)
        s.commit()
        fund_id = world.fund.id
    client = w.login(rapp.test_client())
    assert client.get(f"/admin/reports/{fund_id}").status_code == 200
    assert client.get(f"/admin/settlement/{fund_id}").status_code == 200
