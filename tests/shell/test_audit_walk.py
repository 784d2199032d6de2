"""Every state-changing route and command lands in the audit log of each municipality it touches.

The routes are read from ``app.url_map`` and the commands from the click tree, so a new
POST/PUT/PATCH/DELETE route or command without a step here (or a reviewed entry in the
allow-list) fails the test. Each step acts as the person who would (municipality staff, shop
owner or cashier, family, nobody logged in, the command line) and names the events it must
leave and the municipalities they must belong to.
"""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import click
from flask import Flask
from flask.cli import ScriptInfo
from flask.testing import FlaskClient
from nacl.signing import SigningKey
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from admin.models import SettlementBatch
from kindpakket.cli import main
from kindpakket.time import today as amsterdam_today
from ledger import checkpoint as ckpt
from ledger import witness as wit
from merchant.models import ShopUser
from tests import factories as fx
from tests.merchant.conftest import APPLICATION
from tests.shell import audit_walk_notify
from tests.shell import audit_walk_world as ww
from wallet.models import FamilySession, Fund, Municipality
from wallet.passmodels import Pass

CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
TODAY = amsterdam_today().isoformat()

# Routes that change no lasting state, or whose record is not the audit log. Reviewed.
ROUTES_WITHOUT_EVENT = {
    "POST merchant_api.Redemptions": "a payment (or refusal) is recorded as a ledger entry "
    "and a redemption or refusal row with cashier, shop and fund; the reports show them. "
    "One audit row per payment would double the hot path's writes for no new fact",
    "POST wallet_api.token": "makes a QR token and a 2-minute payment code that is "
    "deleted after expiry; nothing lasting changes",
    "POST wallet.pay": "the same as the token API, for pages without JavaScript",
}
# Commands that change nothing in the database. Reviewed.
COMMANDS_WITHOUT_EVENT = {
    "db upgrade": "changes the schema, not data; recorded in alembic_version",
    "ledger verify": "reads only",
    "ledger export": "reads the database, writes files for an auditor",
    "ledger public-figures": "reads an export directory only; needs no database",
    "ledger public-register": "reads the database, writes a file for an auditor",
    "keys list": "reads only",
    "fund list": "reads only",
    "shop list": "reads only",
    "report": "reads only",
    "demo": "seeds a demo installation through the audited use cases of the other commands",
    "openapi print": "flask-smorest's command; prints the API description",
    "openapi write": "flask-smorest's command; writes the API description to a file",
    "openapi list-config-prefixes": "flask-smorest's command; reads only",
    "limiter config": "Flask-Limiter's command; reads only",
    "limiter limits": "Flask-Limiter's command; reads only",
    "backup": "reads the database (one read transaction) and writes files to a directory",
    "doctor": "reads the configuration and runs SELECT 1; writes nothing",
    "witness status": "the witness's own side: reads its state file; no product database",
    "witness init": "the witness's own side: writes only its new key and state file, runs "
    "without the product's app or database (tests/shell/test_witness.py makes sure)",
    "witness run": "the witness's own side: writes only its state file and needs no product "
    "database; the cosignature it POSTs is recorded by the ledger as ledger.cosigned "
    "(POST witness_api.add_cosignature, walked above)",
    "worker": "sends queued e-mail and runs the daily reminder jobs; each message it sends or "
    "gives up is recorded in the outbox (the municipality's notifications page), the changes "
    "that caused them were audited when they were made",
    "limiter clear": "Flask-Limiter's command: resets rate-limit counters in the limiter's "
    "storage (Redis or memory), not data. Not audited yet: rate limits belong to h5-auth",
}


def changing_routes(app: Flask) -> set[str]:
    """Return "METHOD endpoint" for every state-changing method of every route."""
    return {
        f"{method} {rule.endpoint}"
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) & CHANGING
    }


def commands(app: Flask) -> set[str]:
    """Return the full name of every leaf command of ``kindpakket`` (plugins' too)."""

    def walk(ctx: click.Context, group: click.Group, prefix: str) -> set[str]:
        found: set[str] = set()
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            full = f"{prefix} {name}".strip()
            found |= walk(ctx, command, full) if isinstance(command, click.Group) else {full}
        return found

    # Closing the context pops the app context FlaskGroup pushes to load plugin commands.
    with click.Context(main, obj=ScriptInfo(create_app=lambda: app)) as ctx:
        return walk(ctx, main, "")


# ---------------------------------------------------------------------------- the route walk


class Walk:
    """The clients of every actor and the checks of one walk."""

    def __init__(self, app: Flask, engine: Engine, world: ww.World) -> None:
        self.app, self.engine, self.w = app, engine, world
        self.admin = app.test_client()
        self.admin_b = app.test_client()
        self.owner = app.test_client()
        self.cashier = app.test_client()
        self.family = app.test_client()
        self.phone = app.test_client()
        self.anonymous = app.test_client()
        self.problems: list[str] = []
        self.walked: set[str] = set()

    def step(self, route: str, expected: list[tuple[str, set[int]]], act: Callable[[], Any]):
        """Run ``act`` (the request(s) of ``route``) and check the events it left."""
        self.walked.add(route)
        result = act()
        ww.check(self.engine, self.w, route, expected, self.problems)
        return result

    def one(self, model: Any, *where: Any, newest: Any = None) -> Any:
        """Return the newest row of ``model`` matching ``where``."""
        order = newest if newest is not None else model.id
        with Session(self.engine) as s:
            return s.execute(select(model).where(*where).order_by(order.desc())).scalars().first()

    def phone_session(self) -> str:
        """Return the id of the newest open device session of the family."""
        row = self.one(
            FamilySession,
            FamilySession.household_id == self.w.household,
            FamilySession.revoked_at.is_(None),
            newest=FamilySession.created_at,
        )
        return str(row.id)


def _ok(response: Any, *codes: int) -> Any:
    assert response.status_code in (codes or (200, 201, 204, 302)), (
        response.status_code,
        response.get_data(as_text=True)[:800],
    )
    return response


def _pay(walk: Walk, cents: int) -> int:
    voucher = walk.w.vouchers[0]
    token = _ok(walk.family.post(f"/api/v1/wallet/vouchers/{voucher}/token")).get_json()["token"]
    body = {"token": token, "amount_cents": cents, "idempotency_key": uuid.uuid4().hex}
    return int(_ok(walk.cashier.post("/api/v1/merchant/redemptions", json=body)).get_json()["id"])


def _login(client: FlaskClient, path: str, email: str, password: str = fx.PASSWORD) -> Any:
    return client.post(path, data={"email": email, "password": password})


UNKNOWN = "KP-AAAA-AAAA-AAAA-AAAA"


def walk_logins(walk: Walk) -> None:
    """Staff, shops and families log in: failures are security events too."""
    w, adm, ph = walk.w, walk.admin, walk.phone
    both = {w.a, w.b}
    walk.step(
        "POST admin.login",
        [
            ("admin_user.login_failed", {w.a}),
            ("admin_user.login_failed", set()),
            ("admin_user.logged_in", {w.a}),
            ("admin_user.logged_in", {w.b}),
        ],
        lambda: (
            _ok(_login(adm, "/admin/login", "beheer@voorbeeld.example", "wrong password"), 401),
            _ok(_login(adm, "/admin/login", "niemand@voorbeeld.example"), 401),
            _ok(_login(adm, "/admin/login", "beheer@voorbeeld.example"), 302),
            _ok(_login(walk.admin_b, "/admin/login", "beheer@elders.example"), 302),
        ),
    )
    walk.step(
        "POST merchant.login",
        [
            ("shop_user.login_failed", both),
            ("shop_user.login_failed", set()),
            ("shop_user.logged_in", both),
        ],
        lambda: (
            _ok(_login(walk.cashier, "/merchant/login", w.cashier_email, "wrong password"), 401),
            _ok(_login(walk.cashier, "/merchant/login", "niemand@shop.example"), 401),
            _ok(_login(walk.cashier, "/merchant/login", w.cashier_email), 302),
            _ok(_login(walk.owner, "/merchant/login", w.owner_email), 302),
        ),
    )
    pin = {"pin": ww.PIN, "pin_again": ww.PIN}
    walk.step(
        "POST wallet.activate",
        [
            ("household.code_unknown", set()),
            ("household.activated", {w.a}),
            ("family_session.opened", {w.a}),
        ],
        lambda: (
            _ok(walk.family.post("/wallet/activate", data={"code": UNKNOWN} | pin), 401),
            _ok(walk.family.post("/wallet/activate", data={"code": ww.CODE} | pin), 302),
        ),
    )
    walk.step(
        "POST wallet.login",
        [
            ("household.code_unknown", set()),
            ("household.pin_wrong", {w.a}),
            ("family_session.opened", {w.a}),
        ],
        lambda: (
            _ok(ph.post("/wallet/login", data={"code": UNKNOWN, "pin": "13579"}), 401),
            _ok(ph.post("/wallet/login", data={"code": ww.CODE, "pin": "13579"}), 401),
            _ok(ph.post("/wallet/login", data={"code": ww.CODE, "pin": ww.PIN}), 302),
        ),
    )


def walk_shop(walk: Walk) -> None:
    """Refunds, staff and bank details; an application from a new shop."""
    w, both = walk.w, {walk.w.a, walk.w.b}
    first, second = _pay(walk, 1_000), _pay(walk, 2_000)
    walk.walked.add("POST merchant_api.Redemptions")
    walk.step(
        "POST merchant_api.Refunds",
        [("redemption.refunded", {w.a})],
        lambda: _ok(
            walk.cashier.post(
                f"/api/v1/merchant/redemptions/{first}/refunds",
                json={"amount_cents": 300, "reason": "retour"},
            ),
            201,
        ),
    )
    walk.step(
        "POST merchant.refund",
        [("redemption.refunded", {w.a})],
        lambda: _ok(
            walk.owner.post(
                f"/merchant/payments/{second}/refund", data={"amount": "5,00", "reason": "kapot"}
            ),
            302,
        ),
    )
    walk.step(
        "POST merchant.staff",
        [("shop_user.created", both)],
        lambda: _ok(
            walk.owner.post(
                "/merchant/staff",
                data={"name": "Nieuw", "email": "nieuw@spaak.example", "password": fx.PASSWORD},
            ),
            302,
        ),
    )
    added = walk.one(ShopUser, ShopUser.email == "nieuw@spaak.example").id
    walk.step(
        "POST merchant.staff_active",
        [("shop_user.deactivated", both)],
        lambda: _ok(walk.owner.post(f"/merchant/staff/{added}/deactivate"), 302),
    )
    walk.step(
        "POST merchant.bank",
        [("shop.iban_changed", both)],
        lambda: _ok(
            walk.owner.post("/merchant/bank", data={"iban": ww.NEW_IBAN, "password": fx.PASSWORD}),
            302,
        ),
    )
    walk.step(
        "POST merchant.opening_hours",
        [("shop.hours_changed", both)],
        lambda: _ok(
            walk.owner.post(
                "/merchant/hours",
                data={"monday_1_opens": "09:00", "monday_1_closes": "17:30", "hours_note": ""},
            ),
            302,
        ),
    )
    walk.step(
        "PUT merchant_api.OpeningHours",
        [("shop.hours_changed", both)],
        lambda: _ok(
            walk.owner.put(
                "/api/v1/merchant/hours",
                json={"saturday": [{"opens": "10:00", "closes": "16:00"}], "note": "feestdagen"},
            ),
            200,
        ),
    )
    application = APPLICATION | {"iban": ww.VALID_IBAN}
    walk.step(
        "POST merchant.apply",
        [("shop.applied", set())],
        lambda: _ok(walk.anonymous.post("/merchant/apply", data=application), 200, 302),
    )


CSV = (
    "huishouden_ref;naam_ouder;adres;postcode;woonplaats;e_mail;telefoon;"
    "kind_ref;voornaam_kind;geboortedatum\n"
    "N-1;J. Bakker;Kerkstraat 9;9801 AA;Zuidhorn;;;NK-1;Noor;2016-03-14\n"
)


def walk_municipality(walk: Walk) -> None:
    """Shops, funds, imports, letters, codes and payouts by municipality A's administrator."""
    w, adm = walk.w, walk.admin
    walk.step(
        "POST admin_shops.decide",
        [("shop.approved", {w.a})],
        lambda: _ok(adm.post(f"/admin/shops/{w.pending_shop}/funds/{w.fund_a}/approve"), 302),
    )
    walk.step(
        "POST admin_shops.rename",
        [("shop.renamed", {w.a, w.b})],  # its payouts in B's fund carry the name too
        lambda: _ok(adm.post(f"/admin/shops/{w.shop}/name", data={"name": "Fietsen Spaak BV"})),
    )
    start = amsterdam_today() - timedelta(days=1)
    fund_form = {
        "name": "Kindpakket Walk",
        "start": start.isoformat(),
        "end": (start + timedelta(days=300)).isoformat(),
        "budget": "100,00",
        "deposit": "10000,00",
    }
    walk.step(
        "POST admin_funds.new",
        [("fund.created", {w.a}), ("fund.deposited", {w.a})],
        lambda: _ok(adm.post("/admin/funds/new", data=fund_form), 302),
    )
    new = walk.one(Fund, Fund.name == "Kindpakket Walk").id
    upload = {"file": (io.BytesIO(CSV.encode()), "kinderen.csv")}
    preview = walk.step(
        "POST admin_funds.import_page",
        [("fund.import_previewed", {w.a})],
        lambda: _ok(adm.post(f"/admin/funds/{new}/import", data=upload), 200),
    )
    sha = preview.get_data(as_text=True).split('name="sha256" type="hidden" value="')[1][:64]
    walk.step(
        "POST admin_funds.import_confirm",
        [("fund.children_imported", {w.a})],
        lambda: _ok(adm.post(f"/admin/funds/{new}/import/confirm", data={"sha256": sha}), 302),
    )
    walk.step(
        "POST admin_funds.letters",
        [("fund.letters_printed", {w.a}), ("household.code_issued", {w.a})],
        lambda: _ok(
            adm.post(f"/admin/funds/{new}/letters", data={"language": "nl", "scope": "pending"}),
            200,
        ),
    )
    walk.step(
        "POST admin_funds.reissue",
        [("household.code_issued", {w.a}), ("fund.letters_printed", {w.a})],
        lambda: _ok(
            adm.post(
                f"/admin/funds/{w.fund_a}/households/{w.household_2}/code", data={"language": "nl"}
            ),
            200,
        ),
    )
    walk.step(
        "POST admin_households.topup",
        [("voucher.topped_up", {w.a})],
        lambda: _ok(
            adm.post(
                f"/admin/funds/{w.fund_a}/households/{w.household_2}/topup",
                data={"child": "H-2-C1", "amount": "25,00"},
            ),
            302,
        ),
    )
    settle = {"until": TODAY, "execution_date": TODAY, "version": "03"}
    url = f"/admin/settlement/{w.fund_a}"
    walk.step(
        "POST admin_settlement.index",
        [("settlement.created", {w.a})],
        lambda: _ok(adm.post(url, data=settle), 302),
    )
    batch = walk.one(SettlementBatch, SettlementBatch.fund_id == w.fund_a).id
    walk.step(
        "POST admin_settlement.cancel",
        [("settlement.cancelled", {w.a})],
        lambda: _ok(adm.post(f"{url}/batches/{batch}/cancel"), 302),
    )
    _ok(adm.post(url, data=settle), 302)
    ww.new_events(walk.engine, w)
    batch = walk.one(SettlementBatch, SettlementBatch.fund_id == w.fund_a).id
    walk.step(
        "POST admin_settlement.download",
        [("settlement.exported", {w.a})],
        lambda: _ok(adm.post(f"{url}/batches/{batch}/download"), 200),
    )
    walk.step(
        "POST admin_settlement.confirm",
        [("settlement.confirmed", {w.a})],
        lambda: _ok(adm.post(f"{url}/batches/{batch}/confirm", data={"reason": "afschrift"}), 302),
    )
    walk_bank(walk, url, batch)


def walk_bank(walk: Walk, url: str, batch: int) -> None:
    """A clerk imports a statement (a return and an unrelated line) and resolves the line."""
    from admin.models import BankLine, Payout
    from tests.admin import bankgen

    w, adm = walk.w, walk.admin
    p = walk.one(Payout, Payout.batch_id == batch)
    with Session(walk.engine) as s:
        iban = s.get(Municipality, w.a).iban or bankgen.DEFAULT_IBAN
    back = bankgen.Ntry(
        p.amount_cents,
        credit=True,
        subfamily="RRTN",
        txs=[bankgen.Tx(p.end_to_end_id, p.amount_cents, "AC01")],
    )
    fee = bankgen.Ntry(750, ref="FEE-1", text="Kosten")
    data = bankgen.statement([back, fee], iban=iban)
    walk.step(
        "POST admin_bank.upload",
        [("bank_file.imported", {w.a}), ("payout.returned", {w.a})],
        lambda: _ok(
            adm.post(f"{url}/bank/upload", data={"file": (io.BytesIO(data), "camt.xml")}), 302
        ),
    )
    line = walk.one(BankLine, BankLine.outcome == "unmatched").id
    walk.step(
        "POST admin_bank.resolve",
        [("bank_line.resolved", {w.a})],
        lambda: _ok(adm.post(f"{url}/bank/lines/{line}/resolve", data={"note": "bankkosten"}), 302),
    )


def walk_family(walk: Walk) -> None:
    """The family blocks and unblocks budgets and logs devices out."""
    w, fam, voucher = walk.w, walk.family, walk.w.vouchers[1]
    _ok(fam.post(f"/wallet/pay/{voucher}"), 200)
    walk.walked |= {"POST wallet.pay", "POST wallet_api.token"}
    ww.new_events(walk.engine, w)
    walk.step(
        "POST wallet.block",
        [("voucher.blocked", {w.a})],
        lambda: _ok(fam.post(f"/wallet/vouchers/{voucher}/block"), 302),
    )
    walk.step(
        "POST wallet.unblock",
        [("household.pin_wrong", {w.a}), ("voucher.unblocked", {w.a})],
        lambda: (
            _ok(fam.post(f"/wallet/vouchers/{voucher}/unblock", data={"pin": "13579"}), 401),
            _ok(fam.post(f"/wallet/vouchers/{voucher}/unblock", data={"pin": ww.PIN}), 302),
        ),
    )
    api = f"/api/v1/wallet/vouchers/{voucher}"
    walk.step(
        "POST wallet_api.block",
        [("voucher.blocked", {w.a})],
        lambda: _ok(fam.post(f"{api}/block"), 200),
    )
    walk.step(
        "POST wallet_api.unblock",
        [("voucher.unblocked", {w.a})],
        lambda: _ok(fam.post(f"{api}/unblock", json={"pin": ww.PIN}), 200),
    )
    phone = walk.phone_session()
    walk.step(
        "DELETE wallet_api.revoke",
        [("family_session.revoked", {w.a})],
        lambda: _ok(fam.delete(f"/api/v1/wallet/sessions/{phone}"), 204),
    )
    _ok(walk.phone.post("/wallet/login", data={"code": ww.CODE, "pin": ww.PIN}), 302)
    ww.new_events(walk.engine, w)
    phone = walk.phone_session()
    walk.step(
        "POST wallet.device_logout",
        [("family_session.revoked", {w.a})],
        lambda: _ok(fam.post(f"/wallet/devices/{phone}/logout"), 302),
    )
    walk.step(
        "POST wallet.logout",
        [("family_session.revoked", {w.a})],
        lambda: _ok(fam.post("/wallet/logout"), 302),
    )


def walk_passes(walk: Walk) -> None:
    """Passes: the municipality prints, blocks, replaces, re-PINs; the family orders and
    blocks one; a wrong PIN on the public balance page counts towards the pass's lockout."""
    w, adm, fam = walk.w, walk.admin, walk.family
    base = f"/admin/passes/{w.fund_a}"
    printing = {"layout": "card", "language": "nl"}
    walk.step(
        "POST admin_passes.setting",
        [("fund.pass_setting_changed", {w.a})],
        lambda: _ok(adm.post(f"{base}/setting", data={"per": "household"}), 302),
    )
    walk.step(
        "POST wallet_passes.order",
        [("household.pass_requested", {w.a})],
        lambda: _ok(fam.post("/wallet/passes/request"), 302),
    )
    walk.step(
        "POST admin_passes.print_passes",
        [("fund.passes_issued", {w.a}), ("fund.passes_issued", {w.a})],
        lambda: (
            _ok(adm.post(f"{base}/households/{w.household}/print", data=printing), 200),
            _ok(adm.post(f"{base}/print", data=printing), 200),
        ),
    )
    first = walk.one(Pass, Pass.household_id == w.household)
    walk.step(
        "POST admin_passes.replace",
        [("pass.replaced", {w.a})],
        lambda: _ok(adm.post(f"{base}/passes/{first.id}/replace", data=printing), 200),
    )
    second = walk.one(Pass, Pass.household_id == w.household, Pass.status == "active")
    walk.step(
        "POST admin_passes.block",
        [("pass.blocked", {w.a})],
        lambda: _ok(adm.post(f"{base}/passes/{second.id}/block"), 302),
    )
    walk.step(
        "POST admin_passes.pin_letter",
        [("household.pass_pin_issued", {w.a}), ("household.pin_letter_printed", {w.a})],
        lambda: _ok(adm.post(f"{base}/households/{w.household}/pin", data=printing), 200),
    )
    other = walk.one(Pass, Pass.household_id == w.household_2, Pass.status == "active")
    walk.step(
        "POST wallet_passes.balance",
        [("pass.pin_wrong", {w.a})],
        lambda: _ok(
            walk.anonymous.post("/pass", data={"number": other.number, "pin": "97531"}), 401
        ),
    )
    third = walk.one(Pass, Pass.household_id == w.household)
    _ok(adm.post(f"{base}/passes/{third.id}/replace", data=printing), 200)
    ww.new_events(walk.engine, w)
    fresh = walk.one(Pass, Pass.household_id == w.household, Pass.status == "active")
    walk.step(
        "POST wallet_passes.block",
        [("pass.blocked", {w.a})],
        lambda: _ok(fam.post(f"/wallet/passes/{fresh.id}/block"), 302),
    )


NEW_PASSWORD = "paars paard plakt postzegels"


def walk_witness(walk: Walk) -> None:
    """A trusted witness hands in its cosignature of a checkpoint (no session: it signs)."""
    key = SigningKey(bytes([7]) * 32)
    name = "auditor.voorbeeld.example/witness"
    walk.app.config["WITNESS_VKEYS"] = (wit.cosigner_vkey(name, bytes(key.verify_key)),)
    signed = walk.app.test_cli_runner().invoke(
        main, ["ledger", "checkpoint"], obj=ScriptInfo(create_app=lambda: walk.app)
    )
    assert signed.exit_code == 0, signed.output
    ww.new_events(walk.engine, walk.w)
    latest = _ok(walk.anonymous.get("/api/v1/ledger/checkpoints/latest")).get_json()
    size, body = latest["size"], ckpt.split_note(latest["note"])[0]

    def cosign() -> Any:
        line = wit.cosign(body, name, key, int(time.time())).line()
        body_json = {"size": size, "cosignature": line}
        return _ok(walk.anonymous.post("/api/v1/ledger/cosignatures", json=body_json), 200)

    walk.step("POST witness_api.add_cosignature", [("ledger.cosigned", set())], cosign)
    cosign()  # the same witness again: nothing new is stored, so nothing is recorded
    assert ww.new_events(walk.engine, walk.w) == []


def walk_logouts(walk: Walk) -> None:
    """Staff and shops change their passwords (their other logins end) and log out."""
    w = walk.w
    change = {"current": fx.PASSWORD, "new": NEW_PASSWORD, "again": NEW_PASSWORD}
    walk.step(
        "POST merchant.password",
        [("shop_user.password_changed", {w.a, w.b})],
        lambda: _ok(walk.owner.post("/merchant/password", data=change), 302),
    )
    walk.step(
        "POST admin.password",
        [("admin_user.password_changed", {w.a})],
        lambda: _ok(walk.admin.post("/admin/password", data=change), 302),
    )
    walk.step(
        "POST merchant.logout",
        [("shop_user.logged_out", {w.a, w.b})],
        lambda: _ok(walk.owner.post("/merchant/logout"), 302),
    )
    walk.step(
        "POST admin.logout",
        [("admin_user.logged_out", {w.a})],
        lambda: _ok(walk.admin.post("/admin/logout"), 302),
    )


def test_every_state_changing_route_is_audited_in_each_municipality_it_touches(
    app: Flask, engine: Engine
) -> None:
    world = ww.seed(engine)
    walk = Walk(app, engine, world)
    routes = changing_routes(app)
    assert not set(ROUTES_WITHOUT_EVENT) - routes, "the allow-list names routes that are gone"
    notify = lambda walk: audit_walk_notify.walk_notify(walk, _ok)  # noqa: E731
    parts = (
        walk_logins,
        walk_shop,
        walk_municipality,
        walk_passes,
        notify,
        walk_family,
        walk_witness,
        walk_logouts,
    )
    for part in parts:
        part(walk)
    assert not walk.problems, "\n".join(walk.problems)
    missing = routes - walk.walked - set(ROUTES_WITHOUT_EVENT)
    assert not missing, f"state-changing routes the audit walk does not cover: {sorted(missing)}"
    actors = {actor.partition(":")[0] for _, actor, _ in world.found}
    assert {"admin", "shop_user", "household", "anonymous", "witness"} <= actors


def test_an_iban_change_shows_in_both_municipalities_audit_pages_in_dutch_and_english(
    app: Flask, engine: Engine
) -> None:
    world = ww.seed(engine)
    owner = app.test_client()
    _ok(_login(owner, "/merchant/login", world.owner_email), 302)
    data = {"iban": ww.NEW_IBAN, "password": fx.PASSWORD}
    _ok(owner.post("/merchant/bank", data=data), 302)
    for email in ("beheer@voorbeeld.example", "beheer@elders.example"):
        admin = app.test_client()
        _ok(_login(admin, "/admin/login", email), 302)
        dutch = admin.get("/admin/audit/?name=shop.iban_changed").get_data(as_text=True)
        row = dutch.split("<tbody>")[1]
        assert "Winkel heeft het IBAN gewijzigd" in row and "Winkelmedewerker" in row
        assert ww.NEW_IBAN in row and "1 " in dutch
        english = admin.get("/admin/audit/?name=shop.iban_changed&lang=en").get_data(as_text=True)
        assert "Shop changed its IBAN" in english and "Shop staff" in english
