"""Every state-changing command lands in the audit log of each municipality it touches.

The commands are read from the click tree: a new command without a step here (or a reviewed
entry in ``COMMANDS_WITHOUT_EVENT``) fails the test.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from admin.models import SettlementBatch
from kindpakket.time import today as amsterdam_today
from merchant.models import Shop
from tests.admin import workload
from tests.shell import audit_walk_world as ww
from tests.shell.test_audit_walk import COMMANDS_WITHOUT_EVENT, commands
from wallet.models import Fund, Municipality, Voucher

TODAY = amsterdam_today()


def _pay(engine: Engine, world: ww.World, cents: int) -> None:
    with Session(engine) as s:
        fund, shop = s.get(Fund, world.fund_a), s.get(Shop, world.shop)
        voucher = s.get(Voucher, world.vouchers[0])
        assert fund and shop and voucher
        workload.pay(s, fund, shop, voucher, cents)
        s.commit()


def _newest_batch(engine: Engine, world: ww.World) -> str:
    with Session(engine) as s:
        found = s.execute(
            select(SettlementBatch.id)
            .where(SettlementBatch.fund_id == world.fund_a)
            .order_by(SettlementBatch.id.desc())
        ).scalar()
    return str(found)


def _bank_file(engine: Engine, world: ww.World, tmp_path: Path) -> str:
    """Write a statement returning the newest batch's first payout (AC04)."""
    from admin.models import Payout
    from tests.admin import bankgen

    with Session(engine) as s:
        p = (
            s.execute(
                select(Payout)
                .join(SettlementBatch)
                .where(SettlementBatch.fund_id == world.fund_a)
                .order_by(Payout.id.desc())
            )
            .scalars()
            .first()
        )
        assert p is not None
        tx = bankgen.Tx(p.end_to_end_id, p.amount_cents, "AC04")
        entry = bankgen.Ntry(p.amount_cents, credit=True, subfamily="RRTN", txs=[tx])
        iban = s.get(Municipality, world.a).iban  # type: ignore[union-attr]
    path = tmp_path / "camt053.xml"
    path.write_bytes(bankgen.statement([entry], iban=iban or bankgen.DEFAULT_IBAN))
    return str(path)


def test_every_state_changing_command_is_audited_in_each_municipality_it_touches(
    app: Flask, cli: Any, engine: Engine, tmp_path: Path
) -> None:
    world = ww.seed(engine)
    _pay(engine, world, 1_500)
    w, problems, walked = world, [], set()
    fa, fb = str(world.fund_a), str(world.fund_b)
    ww.new_events(engine, world)

    def step(command: str, args: list[str], expected: list[tuple[str, set[int]]]) -> None:
        walked.add(command)
        result = cli(*command.split(), *args)
        if result.exit_code != 0:
            problems.append(f"{command} {args}: exit {result.exit_code}: {result.output[-500:]}")
        ww.check(engine, world, command, expected, problems)

    csv_file = tmp_path / "kinderen.csv"
    csv_file.write_text(
        "huishouden_ref;naam_ouder;adres;postcode;woonplaats;e_mail;telefoon;"
        "kind_ref;voornaam_kind;geboortedatum\n"
        "N-1;J. Bakker;Kerkstraat 9;9801 AA;Zuidhorn;;;NK-1;Noor;2016-03-14\n",
        encoding="utf-8",
    )
    step("keys generate", ["--purpose", "token"], [("key.generated", set())])
    step("keys rotate", ["--purpose", "token"], [("key.rotated", set())])
    step(
        "admin create-municipality",
        ["--slug", "nieuw", "--name", "Gemeente Nieuw"],
        [],  # its id is only known afterwards: checked below
    )
    with Session(engine) as s:
        assert not problems, problems
        new = s.execute(select(Municipality.id).where(Municipality.slug == "nieuw")).scalar_one()
    assert ("municipality.created", "cli", frozenset({new})) in world.found
    step(
        "admin create-user",
        [
            *("--municipality", "voorbeeld", "--email", "lezer@voorbeeld.example"),
            *("--name", "L", "--role", "viewer", "--password", "correct horse battery"),
        ],
        [("admin_user.created", {w.a})],
    )
    step(
        "admin reset-user",
        ["--email", "lezer@voorbeeld.example", "--inactive"],
        [("admin_user.reset", {w.a})],
    )
    start = TODAY - timedelta(days=1)
    step(
        "fund create",
        [
            *("--municipality", "elders", "--name", "Fonds CLI", "--start", start.isoformat()),
            *("--end", (start + timedelta(days=200)).isoformat(), "--budget", "100,00"),
            *("--deposit", "1000,00"),
        ],
        [("fund.created", {w.b}), ("fund.deposited", {w.b})],
    )
    step("fund deposit", [fa, "500,00"], [("fund.deposited", {w.a})])
    step("ledger checkpoint", [], [("ledger.checkpoint_signed", set())])
    step("fund topup", [fa, w.child_ref, "1,50"], [("voucher.topped_up", {w.a})])
    step("import-children", [fa, str(csv_file)], [("fund.children_imported", {w.a})])
    step(
        "letters",
        [fa, "--out", str(tmp_path / "brieven.pdf")],
        [("fund.letters_printed", {w.a}), ("household.code_issued", {w.a})],
    )
    step(
        "passes",
        [fa, "--out", str(tmp_path / "passen.pdf"), "--per", "household"],
        [("fund.pass_setting_changed", {w.a}), ("fund.passes_issued", {w.a})],
    )
    step("shop approve", [str(w.pending_shop), fa], [("shop.approved", {w.a})])
    step(
        "shop reject",
        [str(w.pending_shop), fb, "--reason", "Geen kinderwinkel"],
        [("shop.rejected", {w.b})],
    )
    step("settle", [fa, "--until", TODAY.isoformat()], [("settlement.created", {w.a})])
    step("cancel-batch", [_newest_batch(engine, w)], [("settlement.cancelled", {w.a})])
    step("settle", [fa, "--until", TODAY.isoformat()], [("settlement.created", {w.a})])
    batch = _newest_batch(engine, w)
    step(
        "settle-export", [batch, "-o", str(tmp_path / "sepa.xml")], [("settlement.exported", {w.a})]
    )
    step("confirm-batch", [batch, "--reason", "afschrift"], [("settlement.confirmed", {w.a})])
    step(
        "bank import",
        [_bank_file(engine, w, tmp_path), "--municipality", "voorbeeld"],
        [("bank_file.imported", {w.a}), ("payout.returned", {w.a})],
    )
    step("shop suspend", [str(w.shop), "--reason", "Klachten"], [("shop.suspended", {w.a, w.b})])
    later = (TODAY + timedelta(days=400)).isoformat()
    step("extend-fund", [fa, "--until", later], [("fund.extended", {w.a})])
    step("close-fund", [fb], [("fund.closed", {w.b})])
    # Last: a restore replaces the database (by the backup just made, so nothing is lost but
    # nothing proves it either) and records itself in the restored one.
    assert cli("backup", str(tmp_path / "backup")).exit_code == 0
    step(
        "restore",
        [str(tmp_path / "backup"), "--accept-loss", "--by", "walker"],
        [("database.restored", set()), ("service.restore_loss_accepted", set())],
    )

    assert not problems, "\n".join(problems)
    assert {actor.partition(":")[0] for _, actor, _ in world.found} == {"cli"}
    every = commands(app)
    assert not set(COMMANDS_WITHOUT_EVENT) - every, "the allow-list names commands that are gone"
    missing = every - walked - set(COMMANDS_WITHOUT_EVENT)
    assert not missing, f"state-changing commands the audit walk does not cover: {sorted(missing)}"
