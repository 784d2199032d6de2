"""The world the audit walk starts from, and how it reads the audit log back.

Two municipalities (A: "voorbeeld", B: "elders") each run a fund; one shop is approved for
both funds, a second shop waits for a decision; family 1 of fund A has an activation code,
family 2 is there to get a new code; administrators of A and B can log in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from admin.audit import auditlog
from admin.audit.auditnames import EVENTS
from kindpakket.audit import AuditEvent
from ledger import store
from merchant.models import ShopApproval, payable_account
from tests import factories as fx
from wallet import services as wallet

CODE = wallet.new_activation_code()
PIN = "27183"
VALID_IBAN = "NL18RABO0123459876"
NEW_IBAN = "NL91ABNA0417164300"


@dataclass
class World:
    """Ids of what ``seed`` made."""

    a: int  # municipality A
    b: int  # municipality B
    fund_a: int
    fund_b: int
    shop: int  # approved for fund A and fund B
    owner_email: str
    cashier_email: str
    pending_shop: int  # applied, no decision yet
    household: int
    vouchers: list[int]
    household_2: int
    child_ref: str
    seen: int = 0  # audit events already checked
    found: list[tuple[str, str, frozenset[int]]] = field(default_factory=list)


def seed(engine: Engine) -> World:
    """Create and commit the world."""
    with Session(engine, expire_on_commit=False) as s:
        ma = fx.municipality(s)
        mb = fx.municipality(s, slug="elders", name="Gemeente Elders")
        fa = fx.fund(s, ma)
        fb = fx.fund(s, mb, name="Fonds Elders")
        household, vouchers = fx.family(s, fa, code=CODE)
        household_2, _ = fx.family(s, fa, reference="H-2", children=("Sem",))
        shop, owner, cashier = fx.shop(s, fa)
        assert cashier is not None
        shop.iban = VALID_IBAN  # the factory's default IBAN fails its checksum
        s.add(
            ShopApproval(
                shop_id=shop.id,
                fund_id=fb.id,
                status="approved",
                decided_at=fx.NOW,
                decided_by="test",
                created_at=datetime.now(UTC),
            )
        )
        store.open_account(s, payable_account(shop.id, fb.id))
        pending, _, _ = fx.shop(
            s,
            None,
            name="Boekhandel Lees",
            kvk="87654321",
            category="books_school",
            owner_email="eigenaar@lees.example",
            cashier_email=None,
        )
        fx.admin_user(s, ma)
        fx.admin_user(s, mb, email="beheer@elders.example")
        s.commit()
        return World(
            a=ma.id,
            b=mb.id,
            fund_a=fa.id,
            fund_b=fb.id,
            shop=shop.id,
            owner_email=owner.email,
            cashier_email=cashier.email,
            pending_shop=pending.id,
            household=household.id,
            vouchers=[v.id for v in vouchers],
            household_2=household_2.id,
            child_ref="H-1-C1",
        )


def new_events(engine: Engine, world: World) -> list[tuple[int, str, str, frozenset[int]]]:
    """Return the events recorded since the last call: (id, name, actor, municipalities)."""
    with Session(engine) as s:
        rows = list(
            s.execute(
                select(AuditEvent).where(AuditEvent.id > world.seen).order_by(AuditEvent.id)
            ).scalars()
        )
        if rows:
            world.seen = rows[-1].id
        got = [(e.id, e.name, e.actor, frozenset(e.municipality_ids)) for e in rows]
    world.found.extend((name, actor, scope) for _, name, actor, scope in got)
    return got


def shown_to(engine: Engine, municipality: int, since: int) -> set[int]:
    """Return the ids (above ``since``) of the events the audit query shows ``municipality``."""
    with Session(engine) as s:
        rows, _ = auditlog.events(s, municipality, auditlog.Filters(), per_page=10_000)
    return {e.id for e in rows if e.id > since}


def check(
    engine: Engine,
    world: World,
    what: str,
    expected: list[tuple[str, set[int]]],
    problems: list[str],
) -> None:
    """Compare the events ``what`` recorded with ``expected`` (name, municipalities).

    Each expected event must be recorded with exactly those municipalities, the audit query
    of each of them must show it and that of the other must not (an event without
    municipalities is installation-wide and shown to both); every event needs a label.
    """
    since = world.seen
    got = new_events(engine, world)
    scoped = [(name, scope) for _, name, _, scope in got]
    shown = {m: shown_to(engine, m, since) for m in (world.a, world.b)}
    for name, scope in expected:
        ids = [i for i, n, _, sc in got if n == name and sc == frozenset(scope)]
        if not ids:
            problems.append(f"{what}: expected {name} in {sorted(scope)}, got {scoped}")
            continue
        for m in (world.a, world.b):
            should = not scope or m in scope
            if (ids[0] in shown[m]) != should:
                problems.append(f"{what}: {name} shown to municipality {m}: {not should}")
    for _, name, _, _ in got:
        if name not in EVENTS:
            problems.append(f"{what}: {name} has no readable label (admin/auditnames.py)")
