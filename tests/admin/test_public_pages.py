"""Public pages per municipality: where to spend, spending figures, accessibility, privacy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from admin.reports import privacy
from ledger.base import Base
from tests import factories as f
from tests.admin.workload import pay


@dataclass
class Town:
    slug: str
    fund_id: int


def make_town(engine: Engine, families: int, *, category: str = "sports") -> Town:
    """Create a town whose fund has one shop and ``families`` households that paid 10 euro."""
    with Session(engine) as s:
        m = f.municipality(s)
        fund = f.fund(s, m)
        shop, _, _ = f.shop(s, fund, category=category)
        f.shop(
            s,
            None,
            name="Boekhandel Lees",
            kvk="87654321",
            owner_email="e@lees.example",
            cashier_email=None,
        )
        for n in range(families):
            _, vouchers = f.family(s, fund, reference=f"H-{n}", children=("Kim",))
            pay(s, fund, shop, vouchers[0], 1_000)
        s.commit()
        return Town(m.slug, fund.id)


def test_footer_links_lead_to_the_municipality_pages(app: Flask, engine: Engine) -> None:
    town = make_town(engine, 0)
    client = app.test_client()
    home = client.get("/").get_data(as_text=True)
    for page in ("shops", "spending", "accessibility", "privacy"):
        assert f'href="/open/{page}"' in home
        answer = client.get(f"/open/{page}")
        assert answer.status_code == 302 and f"/open/{town.slug}/" in answer.location


def test_where_to_spend_lists_approved_shops_only_and_searches(app: Flask, engine: Engine) -> None:
    town = make_town(engine, 0)
    client = app.test_client()
    html = client.get(f"/open/{town.slug}/shops").get_data(as_text=True)
    assert "Fietsenwinkel De Spaak" in html and "Sport" in html and "Stationsweg 2" in html
    assert "Boekhandel Lees" not in html  # applied, not approved
    html = client.get(f"/open/{town.slug}/shops?q=bakker").get_data(as_text=True)
    assert "Fietsenwinkel De Spaak" not in html and "Geen winkel gevonden" in html
    html = client.get(f"/open/{town.slug}/shops?category=sports&q=zuidhorn").get_data(as_text=True)
    assert "Fietsenwinkel De Spaak" in html


@pytest.mark.parametrize(("families", "shown"), [(12, True), (3, False)])
def test_spending_figures_hide_cells_under_ten_households(
    app: Flask, engine: Engine, cli: Any, families: int, shown: bool
) -> None:
    town = make_town(engine, families)
    assert cli("ledger", "checkpoint").exit_code == 0
    client = app.test_client()
    html = client.get(f"/open/{town.slug}/spending/{town.fund_id}").get_data(as_text=True)
    assert "Budget toegekend" in html
    spent = f"€ {families * 10},00"
    assert spent in html  # the total is always shown
    for label in ("Sport", families_week(html)):
        row = html.split(f'<th scope="row">{label}</th>', 1)[1].split("</tr>", 1)[0]
        assert (spent in row) is shown
        assert ("niet getoond" in row) is not shown
    assert "Huishoudens die het gebruikten" in html
    assert ("100,0 %" in html) is shown  # the share of households only from ten on


def families_week(html: str) -> str:
    """Return the label of the first week row of the page ("2026-W48")."""
    return html.split("Uitgaven per week", 1)[1].split('<th scope="row">', 1)[1].split("<", 1)[0]


def test_privacy_statement_names_every_personal_table_and_its_columns(
    app: Flask, engine: Engine
) -> None:
    town = make_town(engine, 0)
    html = app.test_client().get(f"/open/{town.slug}/privacy").get_data(as_text=True)
    for record in privacy.records():
        assert f"<code>{record.table}</code>" in html
        for column in record.columns:
            assert f"<code>{column}</code>" in html
    # Tables about people must be described; a new one fails here until it is.
    personal = {"households", "children", "shop_users", "admin_users", "audit_events"}
    assert personal <= {r.table for r in privacy.records()} <= set(Base.metadata.tables)


def test_accessibility_statement_follows_the_model(client: FlaskClient, engine: Engine) -> None:
    town = make_town(engine, 0)
    html = client.get(f"/open/{town.slug}/accessibility?lang=en").get_data(as_text=True)
    for part in ("Status", "Scope", "Date", "What was tested", "Known issues", "Contact"):
        assert f"<h2>{part}</h2>" in html
    assert "axe-core" in html and "WCAG 2.1" in html


def test_unknown_municipality_is_404(client: FlaskClient) -> None:
    assert client.get("/open/nergens/shops").status_code == 404
