"""Bank files close the loop: bookings confirm, rejections and returns make payouts owed again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask_babel import force_locale
from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin.models import BankFile, BankLine, Payout, SettlementBatch
from admin.reports import services as reports
from admin.settlement import bank_texts, bankimport, bankxml
from admin.settlement import services as settlement
from kindpakket.audit import AuditEvent
from kindpakket.errors import DomainError
from ledger import store
from ledger.models import LedgerEntry
from merchant.models import Shop, payable_account
from tests.admin import bankgen as g
from tests.admin import workload as w

rcli = w.rcli  # fixture
TODAY = reports.today()


def _exported(session: Session, world: w.World) -> SettlementBatch:
    w.generate(session, world, payments=20)
    batch = settlement.settle(session, world.fund, until=TODAY, actor="test")
    settlement.export_file(session, batch, actor="test")
    session.commit()
    return batch


def _import(session: Session, world: w.World, data: bytes) -> tuple[BankFile, bool]:
    result = bankimport.import_file(
        session, world.municipality, data, filename="bank.xml", actor="admin:1"
    )
    session.commit()
    return result


def _booking(batch: SettlementBatch, payouts: list[Payout], **kw) -> g.Ntry:  # type: ignore[no-untyped-def]
    return g.Ntry(
        sum(p.amount_cents for p in payouts),
        msg_id=batch.message_id,
        pmt_inf_id=batch.message_id,
        txs=[g.Tx(p.end_to_end_id, p.amount_cents) for p in payouts],
        **kw,
    )


def _owed(session: Session, world: w.World, shop_id: int) -> int:
    return store.balance(session, payable_account(shop_id, world.fund.id))


@pytest.mark.parametrize("version", ["02", "08"])
def test_a_booked_statement_confirms_the_batch_and_twice_changes_nothing(
    session: Session, version: str
) -> None:
    world = w.seed(session)
    batch = _exported(session, world)
    data = g.statement([_booking(batch, batch.payouts, ref="ING-778899")], version=version)
    record, new = _import(session, world, data)
    assert new and record.summary == {"booked": len(batch.payouts)}
    session.refresh(batch)
    assert batch.status == "confirmed" and batch.booked_on is not None
    assert batch.bank_reference and batch.bank_reference.startswith("ING-778899")
    assert all(p.booked_on == g.Ntry(0).booked for p in batch.payouts)
    entries = session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one()
    again, new = _import(session, world, data)
    assert not new and again.id == record.id
    assert session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one() == entries
    assert session.execute(select(func.count()).select_from(BankFile)).scalar_one() == 1
    event = session.execute(
        select(AuditEvent).where(AuditEvent.name == "settlement.confirmed")
    ).scalar_one()
    assert event.actor == "admin:1" and event.after["bank_reference"].startswith("ING-778899")


@pytest.mark.parametrize("version", ["03", "12"])
def test_partial_acceptance_returns_the_rejected_payout_and_the_next_settlement_pays_it_once(
    session: Session, version: str
) -> None:
    world = w.seed(session)
    batch = _exported(session, world)
    rejected, *accepted = sorted(batch.payouts, key=lambda p: p.shop_id)
    report = g.status_report(
        batch.message_id,
        group="PART",
        txs=[g.TxStatus(rejected.end_to_end_id, "RJCT", "AC04", rejected.amount_cents)]
        + [g.TxStatus(p.end_to_end_id, "ACCP") for p in accepted],
        version=version,
    )
    record, _ = _import(session, world, report)
    # The group's PART is kept as a line too.
    assert record.summary == {"accepted": len(accepted) + 1, "rejected": 1}
    session.refresh(rejected)
    assert rejected.return_reason == "AC04" and rejected.returned_seq
    entry = store.get_entry(session, rejected.returned_seq)
    assert entry is not None and entry.kind == "payout.return"
    assert _owed(session, world, rejected.shop_id) == rejected.amount_cents
    assert session.get(Shop, rejected.shop_id).iban_check_reason == "AC04"  # type: ignore[union-attr]
    assert batch.status == "exported"

    _import(session, world, g.statement([_booking(batch, accepted)]))
    session.refresh(batch)
    assert batch.status == "confirmed"

    # The same return again (now in a statement) is ignored: no second entry.
    returned = g.Ntry(
        rejected.amount_cents,
        credit=True,
        ref="RET-1",
        subfamily="RRTN",
        txs=[g.Tx(rejected.end_to_end_id, rejected.amount_cents, "AC04")],
    )
    record, _ = _import(session, world, g.statement([returned], msg_id="STMT-2"))
    assert record.summary == {"duplicate": 1}
    assert _owed(session, world, rejected.shop_id) == rejected.amount_cents

    again = settlement.settle(session, world.fund, until=TODAY, actor="test")
    session.commit()
    assert [(p.shop_id, p.amount_cents) for p in again.payouts] == [
        (rejected.shop_id, rejected.amount_cents)
    ]
    assert again.payouts[0].payment_count == rejected.payment_count
    assert _owed(session, world, rejected.shop_id) == 0


def test_a_return_after_confirmation_is_owed_again_and_nets_to_zero_after_paying_again(
    session: Session,
) -> None:
    world = w.seed(session)
    batch = _exported(session, world)
    _import(session, world, g.statement([_booking(batch, batch.payouts)], kind="054"))
    session.refresh(batch)
    assert batch.status == "confirmed"
    victim = batch.payouts[0]
    back = g.Ntry(
        victim.amount_cents,
        credit=True,
        ref="RABO-RET-9",
        subfamily="RRTN",
        txs=[g.Tx(victim.end_to_end_id, victim.amount_cents, "MD07")],
    )
    record, _ = _import(session, world, g.statement([back], msg_id="STMT-3", version="08"))
    assert record.summary == {"returned": 1}
    session.refresh(victim)
    assert victim.return_reason == "MD07" and batch.status == "confirmed"
    assert _owed(session, world, victim.shop_id) == victim.amount_cents
    names = session.execute(select(AuditEvent.name)).scalars().all()
    assert "payout.returned" in names and "bank_file.imported" in names
    again = settlement.settle(session, world.fund, until=TODAY, actor="test")
    assert again.total_cents == victim.amount_cents
    assert _owed(session, world, victim.shop_id) == 0
    # Cancelling the first batch now would pay back only what was not returned.
    assert all(_owed(session, world, s.id) == 0 for s in world.shops)


def test_a_statement_with_unrelated_lines_keeps_them_for_the_clerk(session: Session) -> None:
    world = w.seed(session)
    batch = _exported(session, world)
    lines = [
        g.Ntry(12_345_00, credit=True, ref="DEP-1", text="Storting Rijksbijdrage"),
        g.Ntry(750, ref="FEE-1", text="Kosten betalingsverkeer"),
        g.Ntry(999, ref="X-1", txs=[g.Tx("SOMEONE-ELSE-1", 999)]),
        _booking(batch, batch.payouts),
    ]
    record, _ = _import(session, world, g.statement(lines))
    assert record.summary == {"booked": len(batch.payouts), "unmatched": 3}
    unmatched = (
        session.execute(
            select(BankLine).where(BankLine.outcome == "unmatched").order_by(BankLine.id)
        )
        .scalars()
        .all()
    )
    assert [u.amount_cents for u in unmatched] == [12_345_00, -750, -999]
    assert unmatched[0].text == "Storting Rijksbijdrage" and unmatched[0].fund_id is None


def test_a_whole_batch_rejected_is_cancelled_with_the_banks_reason(session: Session) -> None:
    world = w.seed(session)
    batch = _exported(session, world)
    _import(session, world, g.status_report(batch.message_id, group="RJCT", group_reason="AM04"))
    session.refresh(batch)
    assert batch.status == "cancelled" and "AM04" in (batch.cancel_reason or "")
    assert all(_owed(session, world, p.shop_id) == p.amount_cents for p in batch.payouts)


def test_a_booking_of_a_cancelled_batch_is_a_difference_not_a_payment(session: Session) -> None:
    world = w.seed(session)
    batch = _exported(session, world)
    settlement.cancel(session, batch, actor="test", bank_rejection="bank: niet uitgevoerd")
    session.commit()
    record, _ = _import(session, world, g.statement([_booking(batch, batch.payouts)]))
    assert record.summary == {"difference": len(batch.payouts)}
    details = set(session.execute(select(BankLine.detail)).scalars())
    assert details == {"booked_but_cancelled"}


def _hostile_cases(batch: SettlementBatch) -> dict[str, bytes]:
    ok = g.statement([_booking(batch, batch.payouts)])
    p = batch.payouts[0]
    wrong = g.statement(
        [g.Ntry(p.amount_cents + 1, txs=[g.Tx(p.end_to_end_id, p.amount_cents + 1)])]
    )
    xxe = ok.replace(
        b"<?xml version='1.0' encoding='UTF-8'?>",
        b"<?xml version='1.0' encoding='UTF-8'?>\n"
        b'<!DOCTYPE Document [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    ).replace(b"<MsgId>STMT-2026-03-12</MsgId>", b"<MsgId>&x;</MsgId>", 1)
    laughs = (
        b"<?xml version='1.0'?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\">"
        + b"".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
            for i in range(1, 10)
        )
        + b"]>\n<Document>&lol9;</Document>"
    )
    return {
        "doctype_forbidden": xxe,
        "doctype_forbidden ": laughs,
        "unknown_namespace": ok.replace(b"camt.053.001.02", b"camt.053.001.99"),
        "schema_invalid": ok.replace(b"<CdtDbtInd>DBIT</CdtDbtInd>", b"<CdtDbtInd>XX</CdtDbtInd>"),
        "invalid_xml": ok[:-40],
        "amount_mismatch": wrong,
        "wrong_account": g.statement([_booking(batch, batch.payouts)], iban="NL20INGB0001234567"),
    }


def test_hostile_and_malformed_files_are_refused_and_change_nothing(session: Session) -> None:
    world = w.seed(session)
    batch = _exported(session, world)
    entries = session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one()
    for code, data in _hostile_cases(batch).items():
        with pytest.raises(DomainError) as info:
            bankimport.import_file(
                session, world.municipality, data, filename="x.xml", actor="admin:1"
            )
        session.rollback()
        assert info.value.code == code.strip(), (code, info.value)
        assert "passwd" not in str(info.value.message) and str(info.value.message)
    assert session.execute(select(func.count()).select_from(BankFile)).scalar_one() == 0
    assert session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one() == entries
    session.refresh(batch)
    assert batch.status == "exported" and all(p.booked_on is None for p in batch.payouts)


def test_another_municipalitys_batch_is_never_matched(session: Session) -> None:
    world = w.seed(session)
    batch = _exported(session, world)
    record, _ = bankimport.import_file(
        session,
        world.other_fund.municipality,
        g.statement([_booking(batch, batch.payouts)]),
        filename="x.xml",
        actor="admin:9",
    )
    session.commit()
    assert record.summary == {"unmatched": len(batch.payouts)}
    session.refresh(batch)
    assert batch.status == "exported"


def test_cli_bank_import(session: Session, rcli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    world = w.seed(session)
    batch = _exported(session, world)
    path = tmp_path / "camt053.xml"
    path.write_bytes(g.statement([_booking(batch, batch.payouts)]))
    result = rcli("bank", "import", str(path), "--municipality", "voorbeeld")
    assert result.exit_code == 0, result.output
    assert f"booked {len(batch.payouts)}" in result.output
    again = rcli("bank", "import", str(path), "--municipality", "voorbeeld")
    assert again.exit_code == 0 and "bestand al ingelezen" in again.output  # Dutch by default
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<?xml version='1.0'?><Document xmlns='urn:x'/>")
    refused = rcli("bank", "import", str(bad), "--municipality", "voorbeeld")
    assert refused.exit_code == 2 and "unknown_namespace" in refused.output


def test_every_known_schema_is_an_xsd_from_an_installed_package() -> None:
    site = {name: bankxml.xsd_path(name) for name in bankxml.SCHEMAS}
    for name, path in site.items():
        package, _ = bankxml.SCHEMA_FILES[name]
        assert package in path.parts and "site-packages" in path.parts, path
        tree = etree.parse(str(path), bankxml.parser())
        assert tree.getroot().get("targetNamespace") == f"{bankxml.ISO}{name}"
        assert isinstance(bankxml.xsd(name), etree.XMLSchema)


def test_a_pain002_v10_report_is_refused_with_advice_and_changes_nothing(
    session: Session,
    app: Any,
) -> None:
    world = w.seed(session)
    batch = _exported(session, world)
    rejected = batch.payouts[0]
    entries = session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one()
    report = g.status_report(
        batch.message_id,
        group="PART",
        txs=[g.TxStatus(rejected.end_to_end_id, "RJCT", "AC04", rejected.amount_cents)],
        version="10",
        check=False,  # no installed package ships the pain.002.001.10 XSD
    )
    with pytest.raises(DomainError) as info:
        _import(session, world, report)
    session.rollback()
    assert info.value.code == "schema_unavailable"
    message = str(info.value.message)
    assert "pain.002.001.10" in message and "pain.002.001.03" in message and "camt.054" in message
    with pytest.raises(bankxml.BankFileError) as direct:
        bankxml.read(report)
    with app.app_context(), force_locale("nl"):
        assert "vraag de bank om pain.002.001.03" in str(bank_texts.message(direct.value))
    assert session.execute(select(func.count()).select_from(BankFile)).scalar_one() == 0
    assert session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one() == entries
    session.refresh(rejected)
    assert rejected.return_reason is None and rejected.returned_seq is None
