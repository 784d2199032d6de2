"""``kindpakket shop ...``: approve, reject, suspend and list shops from the command line."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from admin.cli_text import say
from admin.shops import services as shops
from kindpakket.db import db
from kindpakket.errors import DomainError
from merchant.models import ShopApproval
from wallet.models import Fund


@click.group("shop")
def shop_group() -> None:
    """Shops: applications and approval per fund."""


def _fund(session, fund_id: int) -> Fund:  # type: ignore[no-untyped-def]
    fund = session.get(Fund, fund_id)
    if fund is None:
        raise click.BadParameter(say(_l("no fund %(key)r", key=str(fund_id))))
    return fund


def _fail(err: DomainError) -> None:
    click.echo(f"{err.code}: {err.message}", err=True)
    sys.exit(2)


@shop_group.command("approve")
@click.argument("shop")
@click.argument("fund_id", metavar="FUND", type=int)
@with_appcontext
def approve(shop: str, fund_id: int) -> None:
    """Approve SHOP (id or KvK number) for FUND (id)."""
    try:
        with db.transaction() as session:
            found = shops.find_shop(session, shop)
            shops.approve(session, found, _fund(session, fund_id), actor="cli")
            name = found.name
    except DomainError as err:
        _fail(err)
    click.echo(f"{name}: approved for fund {fund_id}")


@shop_group.command("reject")
@click.argument("shop")
@click.argument("fund_id", metavar="FUND", type=int)
@click.option("--reason", required=True, help="the shop sees this")
@with_appcontext
def reject(shop: str, fund_id: int, reason: str) -> None:
    """Reject SHOP for FUND, with a reason."""
    try:
        with db.transaction() as session:
            found = shops.find_shop(session, shop)
            shops.reject(session, found, _fund(session, fund_id), reason, actor="cli")
            name = found.name
    except DomainError as err:
        _fail(err)
    click.echo(f"{name}: rejected for fund {fund_id}")


@shop_group.command("suspend")
@click.argument("shop")
@click.option("--reason", default="suspended by the operator", show_default=True)
@with_appcontext
def suspend(shop: str, reason: str) -> None:
    """Suspend SHOP for every fund: its payments are refused from now."""
    try:
        with db.transaction() as session:
            found = shops.find_shop(session, shop)
            shops.suspend_shop(session, found, reason, actor="cli")
            name = found.name
    except DomainError as err:
        _fail(err)
    click.echo(f"{name}: suspended")


@shop_group.command("list")
@with_appcontext
def list_shops() -> None:
    """List every shop with its status and decisions per fund."""
    with db.transaction() as session:
        funds = list(session.execute(select(Fund).order_by(Fund.id)).scalars())
        decided = {
            (a.shop_id, a.fund_id): a.status
            for a in session.execute(select(ShopApproval)).scalars()
        }
        for row in shops.shop_rows(session, funds):
            s = row.shop
            per_fund = ", ".join(
                f"{f.id}={decided[(s.id, f.id)]}" for f in funds if (s.id, f.id) in decided
            )
            click.echo(f"{s.id}\t{s.kvk}\t{s.status}\t{s.name}\t{per_fund or '-'}")


commands: list[click.Command] = [shop_group]
