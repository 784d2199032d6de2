"""Fixtures for the fund pages and commands: an app with the fund blueprint, logged-in staff."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from admin.funds import services as funds
from admin.funds.paper import Addressee
from kindpakket import i18n
from kindpakket.time import today as amsterdam_today
from tests import factories as f
from tests.admin.workload import login

HEADER = (
    "huishouden_ref;naam_ouder;adres;postcode;woonplaats;e_mail;telefoon;"
    "kind_ref;voornaam_kind;geboortedatum"
)
START = amsterdam_today() - timedelta(days=10)


def csv_bytes(
    rows: Sequence[str], *, header: str = HEADER, bom: bool = False, delimiter: str = ";"
) -> bytes:
    """Return a CSV file from ";"-separated lines (re-joined with ``delimiter``)."""
    lines = [header, *rows]
    text = "\n".join(line.replace(";", delimiter) for line in lines) + "\n"
    return ("\ufeff" if bom else "").encode() + text.encode()


def row(
    household: str = "H-1",
    child: str = "K-1",
    first_name: str = "Anouk",
    born: str = "2016-03-14",
    parent: str = "J. de Vries",
    address: str = "Dorpsstraat 1",
    email: str = "",
) -> str:
    """Return one ";"-separated data line."""
    return f"{household};{parent};{address};9801 AA;Zuidhorn;{email};;{child};{first_name};{born}"


FIRST_ROWS = [
    row("H-1", "K-1", "Anouk", "2016-03-14"),
    row("H-1", "K-2", "Daan", "2018-02-01"),
    row("H-2", "K-3", "Sem", "12-05-2015", parent="P. Jansen", address="Kerkstraat 2"),
]


@dataclass
class World:
    """Ids of what ``seed`` made."""

    municipality_id: int
    fund_id: int
    other_fund_id: int


def seed(engine: Engine) -> World:
    """Create a municipality with staff (administrator, viewer), a fund, and a foreign fund."""
    with Session(engine) as s:
        m = f.municipality(s)
        f.admin_user(s, m)
        f.admin_user(s, m, email="lezer@voorbeeld.example", role="viewer")
        fund = funds.create_fund(
            s,
            m,
            name="Kindpakket 2026",
            start=START,
            end=START + timedelta(days=364),
            budget_cents=30_000,
            deposit_cents=10_000_000,
            actor="test",
        )
        other = f.fund(s, f.municipality(s, slug="elders", name="Gemeente Elders"))
        s.commit()
        return World(m.id, fund.id, other.id)


@pytest.fixture
def world(engine: Engine) -> World:
    """The seeded municipality and funds."""
    return seed(engine)


def words_app() -> Flask:
    """Return a bare app with the real translations, for texts said outside a request."""
    app = Flask("words")
    i18n.init_app(app)
    return app


def addressee(
    ref: str = "HH-0001", parent: str = "Zoë de Vries", language: str | None = None
) -> Addressee:
    """Return a household in Zuidhorn as a printed letter addresses it."""
    return Addressee(
        household_ref=ref,
        parent_name=parent,
        address="Hoofdstraat 12",
        postcode="9801 AB",
        city="Zuidhorn",
        fund_name="Kindpakket 2025",
        municipality_name="Gemeente Westerkwartier",
        language=language,
    )


@pytest.fixture
def words() -> Iterator[None]:
    """An app context with the real translations."""
    with words_app().app_context():
        yield


@pytest.fixture
def funds_app(app: Flask) -> Flask:
    """The app (the fund pages are registered by the factory)."""
    return app


@pytest.fixture
def admin_client(funds_app: Flask, world: World) -> FlaskClient:
    """A client logged in as administrator of the seeded municipality."""
    client = funds_app.test_client()
    login(client)
    return client


@pytest.fixture
def viewer_client(funds_app: Flask, world: World) -> FlaskClient:
    """A client logged in as viewer of the seeded municipality."""
    client = funds_app.test_client()
    login(client, "lezer@voorbeeld.example")
    return client


@pytest.fixture
def run_cli(funds_app: Flask):  # type: ignore[no-untyped-def]
    """Run one of the fund commands: ``run_cli("fund", "list")``."""
    import click
    from flask.cli import ScriptInfo

    from admin.funds.cli import commands

    group = click.Group("kindpakket", commands={c.name: c for c in commands if c.name})
    runner = funds_app.test_cli_runner()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(group, list(args), obj=ScriptInfo(create_app=lambda: funds_app))

    return invoke
