"""The municipality's menu on every page, the household page and its mid-year top-up."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kindpakket.audit import AuditEvent
from ledger import store
from tests import factories as f
from tests.admin.conftest import World
from wallet.models import Fund, Household

MENU = (
    "/admin/",
    "/admin/shops/",
    "/admin/reports/",
    "/admin/payouts",
    "/admin/notifications/",
    "/admin/audit/",
)


def _menu(html: str) -> list[str]:
    nav = html.split('aria-label="Hoofdmenu"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'href="([^"]+)"', nav)


def _household(engine: Engine, world: World) -> int:
    with Session(engine) as s:
        fund = s.get(Fund, world.fund_id)
        assert fund is not None
        household, _ = f.family(s, fund, reference="H-9", children=("Noor",))
        s.commit()
        return household.id


def test_every_admin_page_shows_the_whole_menu(admin_client: FlaskClient, world: World) -> None:
    for page in (*MENU, f"/admin/funds/{world.fund_id}", "/admin/staff", "/admin/password"):
        html = admin_client.get(page, follow_redirects=True).get_data(as_text=True)
        links = _menu(html)
        for wanted in (*MENU, "/admin/staff"):
            assert wanted in links, (page, wanted, links)


def test_the_viewer_sees_no_doors_it_may_not_open(viewer_client: FlaskClient, world: World) -> None:
    links = _menu(viewer_client.get("/admin/").get_data(as_text=True))
    assert "/admin/reports/" in links and "/admin/shops/" in links
    assert "/admin/payouts" not in links and "/admin/audit/" not in links
    assert "/admin/staff" not in links
    assert viewer_client.get("/admin/staff").status_code == 403


def test_the_shops_entry_counts_applications_waiting(
    admin_client: FlaskClient, engine: Engine, world: World
) -> None:
    with Session(engine) as s:
        f.shop(s, None, name="Boekhandel Lees", kvk="87654321", cashier_email=None)
        s.commit()
    html = admin_client.get("/admin/").get_data(as_text=True)
    assert '<span class="badge">1<span class="visually-hidden"> wacht op een besluit' in html


def test_staff_page_lists_the_municipality_staff(admin_client: FlaskClient) -> None:
    html = admin_client.get("/admin/staff").get_data(as_text=True)
    assert "lezer@voorbeeld.example" in html and "alleen lezen" in html


def test_top_up_on_the_household_page(
    admin_client: FlaskClient, engine: Engine, world: World
) -> None:
    household = _household(engine, world)
    page = f"/admin/funds/{world.fund_id}/households/{household}"
    assert "Budget aanvullen" in admin_client.get(page).get_data(as_text=True)
    answer = admin_client.post(f"{page}/topup", data={"child": "H-9-C1", "amount": "50,00"})
    assert answer.status_code == 302
    html = admin_client.get(page).get_data(as_text=True)
    assert "€ 50,00 toegevoegd" in html and "€ 350,00" in html
    with Session(engine) as s:
        names = s.execute(select(AuditEvent.name)).scalars().all()
        assert "voucher.topped_up" in names


def test_a_bad_top_up_changes_nothing_and_says_why(
    admin_client: FlaskClient, engine: Engine, world: World
) -> None:
    household = _household(engine, world)
    page = f"/admin/funds/{world.fund_id}/households/{household}"
    answer = admin_client.post(f"{page}/topup", data={"child": "H-9-C1", "amount": "-5"})
    assert answer.status_code == 400
    with Session(engine) as s:
        h = s.get(Household, household)
        assert h is not None
        voucher = h.children[0].voucher
        assert voucher is not None
        assert store.balance(s, voucher.account) == 30_000


def test_a_viewer_cannot_top_up(viewer_client: FlaskClient, engine: Engine, world: World) -> None:
    household = _household(engine, world)
    page = f"/admin/funds/{world.fund_id}/households/{household}"
    assert "Budget aanvullen" not in viewer_client.get(page).get_data(as_text=True)
    answer = viewer_client.post(f"{page}/topup", data={"child": "H-9-C1", "amount": "5,00"})
    assert answer.status_code == 403
