"""The demo: a fresh SQLite database seeded through the real use cases, then a local server.

    kindpakket demo [--port 5000] [--keep]   (or KINDPAKKET_DEMO_PORT=8080; make demo PORT=8080)

Everything is made the way the municipality, shops and families would make it (fund
creation, CSV import, shop applications and approvals, payments by signed token, a refund),
so the demo's ledger verifies and every page has something to show.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click

# Demo-only credentials, printed on purpose; a real installation creates its own users.
ADMIN_PASSWORD = "demo-gemeente-2026"  # noqa: S105
SHOP_PASSWORD = "demo-winkel-2026"  # noqa: S105
DEMO_MUNICIPALITY = "Gemeente Voorbeeld"

HOUSEHOLDS = [
    # reference, parent, address, postcode, city, [(child ref, first name, birth date)]
    (
        "H-001",
        "Fatima el Amrani",
        "Dorpsstraat 12",
        "9801 AB",
        "Zuidhorn",
        [("K-001", "Yasmina", "2014-05-02"), ("K-002", "Adam", "2017-09-14")],
    ),
    (
        "H-002",
        "Joost de Vries",
        "Kerkpad 3",
        "9801 CD",
        "Zuidhorn",
        [("K-003", "Zoë", "2012-01-23")],
    ),
    (
        "H-003",
        "Anna Kowalska",
        "Molenweg 8",
        "9821 AA",
        "Grijpskerk",
        [
            ("K-004", "Chloë", "2015-11-30"),
            ("K-005", "Jakub", "2019-03-08"),
            ("K-006", "Maja", "2021-07-19"),
        ],
    ),
    (
        "H-004",
        "Pieter Bakker",
        "Stationsweg 21",
        "9801 EF",
        "Zuidhorn",
        [("K-007", "Sem", "2013-04-11")],
    ),
    (
        "H-005",
        "Sanne Mulder",
        "Hoofdweg 77",
        "9831 PA",
        "Aduard",
        [("K-008", "Lotte", "2016-02-29"), ("K-009", "Finn", "2018-12-01")],
    ),
    (
        "H-006",
        "Mohammed Yilmaz",
        "Schoolstraat 5",
        "9801 GH",
        "Zuidhorn",
        [("K-010", "Elif", "2011-08-17")],
    ),
    (
        "H-007",
        "Ingrid Smit",
        "Zuiderweg 40",
        "9822 TB",
        "Niekerk",
        [("K-011", "Noah", "2014-10-06"), ("K-012", "Saar", "2016-06-24")],
    ),
    (
        "H-008",
        "Kees Visser",
        "Brugstraat 2",
        "9801 JK",
        "Zuidhorn",
        [("K-013", "Julia", "2020-01-15")],
    ),
]

SHOPS = [
    # name, kvk, iban, category, owner e-mail, cashier e-mail
    (
        "Fietsenwinkel De Spaak",
        "12345678",
        "NL91ABNA0417164300",
        "bicycles",
        "eigenaar@despaak.example",
        "kassa@despaak.example",
    ),
    (
        "Boekhandel Het Leesvoer",
        "23456789",
        "NL20INGB0001234567",
        "books_school",
        "eigenaar@leesvoer.example",
        None,
    ),
    (
        "Sportzaak Olympia",
        "34567890",
        "NL02ABNA0123456789",
        "sports",
        "eigenaar@olympia.example",
        None,
    ),
]
PENDING_SHOP = (
    "Speelgoed De Tol",
    "45678901",
    "NL39RABO0300065264",
    "toys",
    "eigenaar@detol.example",
    None,
)


@dataclass
class DemoInfo:
    """What the demo prints: where to go and how to log in."""

    url: str
    fund_name: str
    family_codes: list[tuple[str, str]] = field(default_factory=list)  # (parent, code)
    paid_family: tuple[str, str] | None = None
    shops: list[tuple[str, str, str]] = field(default_factory=list)  # (shop, role, e-mail)


def demo_csv() -> bytes:
    """Return the eligible-children file of the demo, as the municipality would upload it."""
    header = (
        "huishouden_ref;naam_ouder;adres;postcode;woonplaats;kind_ref;voornaam_kind;geboortedatum"
    )
    lines = [header]
    for ref, parent, address, postcode, city, children in HOUSEHOLDS:
        for child_ref, first_name, birth in children:
            lines.append(
                ";".join([ref, parent, address, postcode, city, child_ref, first_name, birth])
            )
    return ("\ufeff" + "\n".join(lines) + "\n").encode()


def seed(app, base_url: str) -> DemoInfo:  # type: ignore[no-untyped-def]
    """Create the demo world in ``app``'s (empty, migrated) database."""
    from sqlalchemy import select

    from admin import auth as admin_auth
    from admin.funds import importer
    from admin.funds import services as funds
    from admin.shops import services as shops
    from kindpakket.db import db
    from kindpakket.keys import Keyring
    from merchant import hours, redemptions, refunds
    from merchant import services as merchant_services
    from merchant.models import Shop, ShopUser
    from wallet import services as wallet_services
    from wallet.models import Household, Municipality, Voucher

    ring = Keyring(Path(app.config["KEY_DIR"]))
    ring.ensure("token")
    ring.ensure("checkpoint")
    today = date.today()
    info = DemoInfo(url=base_url, fund_name=f"Kindpakket {today.year}")
    with app.app_context(), app.test_request_context(base_url=base_url), db.transaction() as s:
        m = Municipality(
            name=DEMO_MUNICIPALITY,
            slug="voorbeeld",
            iban="NL44RABO0123456789",
            bic="RABONL2U",
            created_at=datetime.now(UTC),
        )
        s.add(m)
        s.flush()  # the municipality's id goes on its staff and fund
        for email, role in (
            ("beheer@voorbeeld.example", "administrator"),
            ("financien@voorbeeld.example", "finance"),
            ("lezer@voorbeeld.example", "viewer"),
        ):
            admin_auth.create_user(
                s,
                m,
                email=email,
                name=role.title(),
                role=role,
                password=ADMIN_PASSWORD,
                actor="demo",
            )
        fund = funds.create_fund(
            s,
            m,
            name=info.fund_name,
            start=today - timedelta(days=60),
            end=date(today.year + 1, 6, 30),
            budget_cents=30_000,
            deposit_cents=1_000_000_00,
            categories=(),
            show_balance_to_shop=True,
            actor="demo",
        )
        importer.import_rows(s, fund, demo_csv(), actor="demo", filename="demo.csv")
        households = list(
            s.execute(
                select(Household).where(Household.fund_id == fund.id).order_by(Household.reference)
            ).scalars()
        )
        for household in households[:3]:
            code = wallet_services.issue_activation_code(s, household, actor="demo")
            info.family_codes.append((household.parent_name, code))

        owners: list[ShopUser] = []
        for name, kvk, iban, category, owner_email, cashier_email in [*SHOPS, PENDING_SHOP]:
            shop = merchant_services.apply_shop(
                s,
                merchant_services.Application(
                    name=name,
                    kvk=kvk,
                    iban=iban,
                    address="Hoofdstraat 1",
                    postcode="9801 AA",
                    city="Zuidhorn",
                    category=category,
                    email=owner_email,
                    owner_name="Eigenaar",
                    owner_email=owner_email,
                    password=SHOP_PASSWORD,
                    hours=hours.parse_week(
                        {d: [("09:00", "12:30"), ("13:30", "17:30")] for d in range(6)},
                        "Gesloten op feestdagen / closed on public holidays",
                    ),
                ),
            )
            owner = s.execute(select(ShopUser).where(ShopUser.shop_id == shop.id)).scalar_one()
            info.shops.append((name, "owner", owner_email))
            if cashier_email:
                merchant_services.add_staff(
                    s, owner, email=cashier_email, name="Kassa", password=SHOP_PASSWORD
                )
                info.shops.append((name, "cashier", cashier_email))
            if (name, kvk, iban, category, owner_email, cashier_email) != PENDING_SHOP:
                shops.approve(s, shop, fund, actor="demo")
                owners.append(owner)
            else:
                info.shops[-1] = (
                    name + " (application waiting for approval)",
                    "owner",
                    owner_email,
                )

        # A few families have already shopped: payments by signed token, and a refund.
        for household, owner, cents in zip(
            households[3:7], owners * 2, (2_450, 8_999, 1_250, 4_000), strict=False
        ):
            voucher = (
                s.execute(
                    select(Voucher)
                    .join(Voucher.child)
                    .where(Voucher.child.has(household_id=household.id))
                )
                .scalars()
                .first()
            )
            assert voucher is not None
            qr = wallet_services.issue_payment(s, voucher, keyring=ring)
            payment = redemptions.redeem(
                s,
                cashier=owner,
                amount_cents=cents,
                idempotency_key=uuid.uuid4().hex,
                keyring=ring,
                token=qr.token,
            )
            if cents == 8_999:
                refunds.refund(
                    s,
                    cashier=owner,
                    redemption_id=payment.id,
                    amount_cents=1_999,
                    reason="Verkeerde maat / wrong size",
                )
        paid = households[3]
        info.paid_family = (
            paid.parent_name,
            wallet_services.issue_activation_code(s, paid, actor="demo"),
        )
        assert s.execute(select(Shop).where(Shop.status == "pending")).first() is not None
    return info


def print_info(info: DemoInfo) -> None:
    """Print where to go and how to log in."""
    line = "─" * 72
    click.echo(f"\n{line}\nKindpakket demo — {DEMO_MUNICIPALITY}, fund “{info.fund_name}”\n{line}")
    click.echo(f"Open {info.url}/  (Nederlands; English via the link at the top)\n")
    click.echo("Families (wallet) — open the link, choose a PIN of 5+ digits (e.g. 48213):")
    for parent, code in info.family_codes:
        click.echo(f"  {parent:<20} {code}   {info.url}/wallet/activate?code={code}")
    if info.paid_family:
        parent, code = info.paid_family
        click.echo(f"  {parent:<20} {code}   (has already paid in a shop)")
    click.echo(f"\nShops — {info.url}/merchant/login, password {SHOP_PASSWORD}:")
    for shop, role, email in info.shops:
        click.echo(f"  {email:<28} {role:<8} {shop}")
    click.echo(f"\nMunicipality — {info.url}/admin/login, password {ADMIN_PASSWORD}:")
    for email, role in (
        ("beheer@voorbeeld.example", "administrator: funds, import, letters, shops, audit"),
        ("financien@voorbeeld.example", "finance: settlement and SEPA file"),
        ("lezer@voorbeeld.example", "viewer: reports"),
    ):
        click.echo(f"  {email:<28} {role}")
    click.echo(f"\nPublic ledger: {info.url}/api/v1/ledger/checkpoints/latest")
    click.echo(f"{line}\nStop with Ctrl+C.\n")


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--port",
    default=5000,
    show_default=True,
    type=click.IntRange(1, 65535),
    envvar="KINDPAKKET_DEMO_PORT",
    help="also read from KINDPAKKET_DEMO_PORT (make demo PORT=8080)",
)
@click.option("--keep", is_flag=True, help="keep the data of the previous demo run")
@click.option("--no-serve", is_flag=True, help="seed and print, but do not start the server")
def demo_command(host: str, port: int, keep: bool, no_serve: bool) -> None:
    """Start the demo: a seeded SQLite database and a local server; prints the logins."""
    from werkzeug.serving import run_simple

    from kindpakket import create_app
    from kindpakket.db import db
    from kindpakket.migrate import upgrade

    instance = Path(os.environ.get("KINDPAKKET_INSTANCE_DIR", "instance")).resolve() / "demo"
    base_url = f"http://{host}:{port}"
    fresh = not keep or not (instance / "kindpakket.db").exists()
    if fresh and instance.exists():
        shutil.rmtree(instance)
    instance.mkdir(parents=True, exist_ok=True)
    app = create_app(
        {
            "INSTANCE_DIR": str(instance),
            "DATABASE_URL": f"sqlite:///{instance / 'kindpakket.db'}",
            "BASE_URL": base_url,
            "LEDGER_ORIGIN": f"{host}:{port}/ledger",
        }
    )
    with app.app_context():
        upgrade(db.engine)
    if fresh:
        info = seed(app, base_url)
        print_info(info)
    else:
        click.echo(f"Kindpakket demo (kept data) at {base_url}/")
    if not no_serve:
        run_simple(host, port, app, threaded=True, use_reloader=False)
