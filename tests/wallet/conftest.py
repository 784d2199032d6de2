"""Fixtures of the wallet tests: two households in one fund, a keyring, logging in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from kindpakket.keys import Keyring
from tests import factories
from wallet.models import Fund, Household, Voucher

CODE = "KP-7F3K-Q9XM-2HDT-8WNC"
OTHER_CODE = "KP-M4RT-ZZ8P-QH3K-VW2E"
PIN = "48213"
NOW = 1_790_000_000  # a fixed unix time for token tests


def at(seconds: int) -> datetime:
    """Return a UTC datetime for unix seconds."""
    return datetime.fromtimestamp(seconds, UTC)


@dataclass
class World:
    """A fund with our household (two children) and another household (one child)."""

    fund: Fund
    household: Household
    vouchers: list[Voucher]
    other: Household
    other_vouchers: list[Voucher]


@pytest.fixture
def world(session: Session) -> World:
    """Build and commit the world."""
    f = factories.fund(session)
    h, vs = factories.family(session, f, code=CODE)
    o, ovs = factories.family(session, f, reference="H-2", children=("Sem",), code=OTHER_CODE)
    session.commit()
    return World(f, h, vs, o, ovs)


@pytest.fixture
def ring(tmp_path: Path) -> Keyring:
    """Return a keyring whose token key became valid an hour before NOW."""
    keyring = Keyring(tmp_path / "test-keys")
    keyring.generate("token", now=at(NOW - 3600))
    return keyring


def activate(client, code: str = CODE, pin: str = PIN):  # type: ignore[no-untyped-def]
    """Activate the code with a PIN through the page; return the response."""
    return client.post("/wallet/activate", data={"code": code, "pin": pin, "pin_again": pin})
