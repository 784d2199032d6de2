"""The demo: a fresh SQLite database seeded through the real use cases, then a local server.

    kindpakket demo [--port 5000] [--keep]   (or KINDPAKKET_DEMO_PORT=8080; make demo PORT=8080)

Everything is made the way the municipality, shops and families would make it (fund
creation, CSV import, shop applications and approvals, payments by signed token, a refund),
so the demo's ledger verifies and every page has something to show.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import click

from kindpakket.time import today as amsterdam_today

# Demo-only credentials, printed on purpose; a real installation creates its own users.
ADMIN_PASSWORD = "demo-gemeente-2026"  # noqa: S105
SHOP_PASSWORD = "demo-winkel-2026"  # noqa: S105
DEMO_MUNICIPALITY = "Gemeente Voorbeeld"
ROLE_WORK = {
    "administrator": "funds, import, letters, shops, audit",
    "finance": "settlement and SEPA file",
    "viewer": "reports",
}

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
STAFF = [
    ("beheer@voorbeeld.example", "administrator"),
    ("financien@voorbeeld.example", "finance"),
    ("lezer@voorbeeld.example", "viewer"),
]


@dataclass
class DemoInfo:
    """What the demo prints: where to go and how to log in."""

    url: str
    fund_name: str
    family_codes: list[tuple[str, str]] = field(default_factory=list)  # (parent, code)
    paid_family: tuple[str, str] | None = None
    shops: list[tuple[str, str, str]] = field(default_factory=list)  # (shop, role, e-mail)


def seed(app, base_url: str) -> DemoInfo:  # type: ignore[no-untyped-def]
    """Create the demo world in ``app``'s (empty, migrated) database."""
    from admin.funds import services as funds
    from kindpakket.audit import record_event
    from kindpakket.db import db
    from kindpakket.keys import Keyring
    from kindpakket.ledger_api import checkpoint_signer
    from kindpakket.seeding import rows, world
    from kindpakket.seeding.rows import ChildSpec, HouseholdSpec, ShopSpec
    from ledger import proofs
    from merchant import hours, refunds
    from wallet import services as wallet_services

    ring = Keyring(Path(app.config["KEY_DIR"]))
    ring.ensure("token")
    ring.ensure("checkpoint")
    today = amsterdam_today()
    info = DemoInfo(url=base_url, fund_name=f"Kindpakket {today.year}")
    with app.app_context(), app.test_request_context(base_url=base_url), db.transaction() as s:
        m = rows.municipality(
            s, "voorbeeld", DEMO_MUNICIPALITY, iban="NL44RABO0123456789", bic="RABONL2U"
        )
        world.staff(s, m, STAFF, password=ADMIN_PASSWORD, actor="demo")
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
        specs = [
            HouseholdSpec(
                ref,
                parent,
                address,
                postcode,
                city,
                tuple(ChildSpec(r, n, date.fromisoformat(b)) for r, n, b in children),
            )
            for ref, parent, address, postcode, city, children in HOUSEHOLDS
        ]
        households = world.households(s, fund, specs, actor="demo", filename="demo.csv")
        for household in households[:3]:
            code = wallet_services.issue_activation_code(s, household, actor="demo")
            info.family_codes.append((household.parent_name, code))

        opening_hours = hours.parse_week(
            {d: [("09:00", "12:30"), ("13:30", "17:30")] for d in range(6)},
            "Gesloten op feestdagen / closed on public holidays",
        )
        owners = []
        for name, kvk, iban, category, owner_email, cashier_email in [*SHOPS, PENDING_SHOP]:
            spec = ShopSpec(name, kvk, iban, category, owner_email, "Hoofdstraat 1", "9801 AA")
            approved = kvk != PENDING_SHOP[1]
            _, owner, _ = world.shop(
                s,
                spec,
                password=SHOP_PASSWORD,
                cashier_email=cashier_email,
                fund=fund if approved else None,
                hours=opening_hours,
                actor="demo",
            )
            waiting = "" if approved else " (application waiting for approval)"
            info.shops.append((spec.name + waiting, "owner", spec.email))
            if cashier_email:
                info.shops.append((spec.name, "cashier", cashier_email))
            if approved:
                owners.append(owner)

        # A few families have already shopped: payments by signed token, and a refund.
        for household, owner, cents in zip(
            households[3:7], owners * 2, (2_450, 8_999, 1_250, 4_000), strict=False
        ):
            payment = world.pay(s, household, owner, cents, keyring=ring)
            if cents == 8_999:
                refunds.refund(
                    s,
                    cashier=owner,
                    redemption_id=payment.id,
                    amount_cents=1_999,
                    reason="Verkeerde maat / wrong size",
                )
        # A signed checkpoint, so receipts verify and the public spending page has figures.
        made = proofs.make_checkpoint(s, checkpoint_signer(), app.config["LEDGER_ORIGIN"])
        record_event(s, "ledger.checkpoint_signed", actor="demo", after={"size": made.size})
        paid = households[3]
        info.paid_family = (
            paid.parent_name,
            wallet_services.issue_activation_code(s, paid, actor="demo"),
        )
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
    for email, role in STAFF:
        click.echo(f"  {email:<28} {role}: {ROLE_WORK[role]}")
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
