"""Settlement: payouts from the ledger, a valid SEPA file, never paying twice, cancel, confirm."""

from __future__ import annotations

from datetime import timedelta

import pytest
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.models import Payout, SettlementBatch
from admin.reports import services as reports
from admin.settlement import sepa
from admin.settlement import services as settlement
from kindpakket.audit import AuditEvent
from kindpakket.errors import DomainError
from ledger import store
from ledger.models import LedgerCheckpoint
from merchant.models import payable_account
from tests.admin import workload as w

rapp = w.rapp  # fixture
rcli = w.rcli  # fixture

TODAY = reports.today()


def _refused(code: str, fn, *args, **kwargs) -> DomainError:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as info:
        fn(*args, **kwargs)
    assert info.value.code == code, info.value
    assert str(info.value.message)
    return info.value


def _file_amounts(xml: bytes) -> dict[str, int]:
    root = etree.fromstring(xml)
    ns = {"p": etree.QName(root).namespace}
    return {
        tx.findtext("p:PmtId/p:EndToEndId", namespaces=ns): sepa.xml_amount_to_cents(
            tx.findtext("p:Amt/p:InstdAmt", namespaces=ns)
        )
        for tx in root.iter(f"{{{ns['p']}}}CdtTrfTxInf")
    }


def _settle(session: Session, world: w.World, **kwargs) -> SettlementBatch:  # type: ignore[no-untyped-def]
    kwargs.setdefault("until", TODAY)
    return settlement.settle(session, world.fund, actor="test", **kwargs)


@pytest.mark.parametrize("version", ["03", "09"])
def test_settle_pays_every_shop_what_the_ledger_owes(session: Session, version: str) -> None:
    world = w.seed(session)
    w.generate(session, world, payments=30)
    session.commit()
    owed_before = {
        s.id: store.balance(session, payable_account(s.id, world.fund.id)) for s in world.shops
    }
    batch = _settle(session, world, version=version)
    session.commit()

    assert batch.status == "draft" and batch.pain_version == version
    sepa.validate_pain001(batch.xml or b"", version)
    payouts = {p.shop_id: p for p in batch.payouts}
    assert {k: v for k, v in owed_before.items() if v > 0} == {
        k: p.amount_cents for k, p in payouts.items()
    }
    assert batch.total_cents == settlement.ledger_total(session, batch) == sum(owed_before.values())
    assert _file_amounts(batch.xml or b"") == {
        p.end_to_end_id: p.amount_cents for p in payouts.values()
    }
    for p in payouts.values():
        entry = store.get_entry(session, p.ledger_seq)
        assert entry is not None and entry.kind == "payout"
        assert entry.meta == {"batch": batch.id, "shop": p.shop_id, "fund": world.fund.id}
        assert store.balance(session, payable_account(p.shop_id, world.fund.id)) == 0
        paid = sum(1 for r in world.redemptions if r.shop_id == p.shop_id)
        assert p.payment_count == paid
    root = etree.fromstring(batch.xml or b"")
    ns = {"p": etree.QName(root).namespace}
    assert root.findtext(".//p:Dbtr/p:Nm", namespaces=ns) == "Gemeente Voorbeeld"
    assert "NL91ABNA0417164300" in (batch.xml or b"").decode()
    remittance = root.findtext(".//p:RmtInf/p:Ustrd", namespaces=ns) or ""
    assert f"batch {batch.id}" in remittance and "Kindpakket 2026" in remittance
    names = session.execute(select(AuditEvent.name)).scalars().all()
    assert "settlement.created" in names


def test_settle_twice_pays_only_what_is_new(session: Session) -> None:
    world = w.seed(session)
    shop, voucher = world.shops[0], world.vouchers[0]
    w.pay(session, world.fund, shop, voucher, 1_000)
    first = _settle(session, world)
    session.commit()
    _refused("nothing_to_pay", _settle, session, world)
    session.rollback()
    w.pay(session, world.fund, shop, voucher, 250)
    w.pay(session, world.fund, world.shops[1], voucher, 40)
    second = _settle(session, world)
    session.commit()
    assert first.total_cents == 1_000
    assert {p.shop_id: (p.amount_cents, p.payment_count) for p in second.payouts} == {
        shop.id: (250, 1),
        world.shops[1].id: (40, 1),
    }


def test_settle_until_a_date_leaves_later_payments_for_next_time(session: Session) -> None:
    world = w.seed(session)
    from datetime import UTC, datetime

    old = datetime.now(UTC) - timedelta(days=5)
    w.pay(session, world.fund, world.shops[0], world.vouchers[0], 700, at=old)
    w.pay(session, world.fund, world.shops[0], world.vouchers[0], 300)
    batch = _settle(session, world, until=TODAY - timedelta(days=2))
    session.commit()
    assert batch.total_cents == 700
    later = _settle(session, world)  # a later date, after a payout made for an earlier one
    assert later.total_cents == 300


def test_refund_after_payout_is_netted_and_negative_is_carried(session: Session) -> None:
    world = w.seed(session)
    shop = world.shops[0]
    r = w.pay(session, world.fund, shop, world.vouchers[0], 1_000)
    _settle(session, world)
    w.refund(session, world.fund, r, 400)  # after the payout: shop owes 400
    w.pay(session, world.fund, world.shops[1], world.vouchers[1], 90)
    batch = _settle(session, world)
    session.commit()
    assert [(p.shop_id, p.amount_cents) for p in batch.payouts] == [(world.shops[1].id, 90)]
    assert batch.skipped == [
        {"shop_id": shop.id, "name": shop.name, "code": "negative_balance", "cents": -400}
    ]
    w.pay(session, world.fund, shop, world.vouchers[2], 1_500)
    netted = _settle(session, world)
    assert [(p.shop_id, p.amount_cents) for p in netted.payouts] == [(shop.id, 1_100)]


def test_cancel_reverses_and_money_is_paid_again_later(session: Session) -> None:
    world = w.seed(session)
    w.pay(session, world.fund, world.shops[0], world.vouchers[0], 1_234)
    batch = _settle(session, world)
    settlement.export_file(session, batch, actor="test")
    assert batch.status == "exported" and batch.exported_at is not None
    settlement.cancel(session, batch, actor="test", bank_rejection="AC01 incorrect account")
    session.commit()
    assert batch.status == "cancelled"
    payout = batch.payouts[0]
    reversal = store.get_entry(session, payout.reversal_seq or 0)
    assert reversal is not None and reversal.kind == "payout.reversal"
    assert store.balance(session, payable_account(world.shops[0].id, world.fund.id)) == 1_234
    _refused("batch_cancelled", settlement.export_file, session, batch, actor="test")
    _refused("bad_batch_state", settlement.confirm, session, batch, actor="test", reason="x")
    again = _settle(session, world)
    assert again.total_cents == 1_234 and again.payouts[0].payment_count == 1


def test_confirm_only_after_export_and_then_final(session: Session) -> None:
    world = w.seed(session)
    w.pay(session, world.fund, world.shops[0], world.vouchers[0], 500)
    batch = _settle(session, world)
    _refused("bad_batch_state", settlement.confirm, session, batch, actor="test", reason="x")
    xml = settlement.export_file(session, batch, actor="test")
    assert settlement.export_file(session, batch, actor="test") == xml  # same file again
    _refused("confirm_reason_required", settlement.confirm, session, batch, actor="test")
    settlement.confirm(session, batch, actor="test", reason="Rabobank afschrift 12-03")
    session.commit()
    assert batch.status == "confirmed" and batch.confirmed_at is not None
    _refused("bad_batch_state", settlement.cancel, session, batch, actor="test")
    events = session.execute(
        select(AuditEvent.name, AuditEvent.before, AuditEvent.after).where(
            AuditEvent.name == "settlement.confirmed"
        )
    ).one()
    assert events.before["status"] == "exported" and events.after["status"] == "confirmed"


def test_invalid_shop_iban_is_listed_and_others_paid(session: Session) -> None:
    world = w.seed(session)
    world.shops[1].iban = "NL00BANK0123456789"
    for shop in world.shops:
        w.pay(session, world.fund, shop, world.vouchers[0], 100)
    batch = _settle(session, world)
    assert sorted(p.shop_id for p in batch.payouts) == [world.shops[0].id, world.shops[2].id]
    assert [(s["shop_id"], s["code"]) for s in batch.skipped] == [
        (world.shops[1].id, "invalid_iban")
    ]
    assert store.balance(session, payable_account(world.shops[1].id, world.fund.id)) == 100


def test_refusals(session: Session) -> None:
    world = w.seed(session)
    _refused("nothing_to_pay", _settle, session, world)
    w.pay(session, world.fund, world.shops[0], world.vouchers[0], 100)
    err = _refused(
        "execution_date_in_past",
        _settle,
        session,
        world,
        execution_date=TODAY - timedelta(days=1),
    )
    assert err.details["execution_date"]
    world.municipality.iban = None
    _refused("no_municipality_iban", _settle, session, world)
    assert session.execute(select(Payout)).first() is None


def test_file_with_tampered_sum_or_iban_fails_validation(session: Session) -> None:
    world = w.seed(session)
    w.pay(session, world.fund, world.shops[0], world.vouchers[0], 100)
    batch = _settle(session, world)
    xml = batch.xml or b""
    with pytest.raises(sepa.SepaError) as bad_sum:
        sepa.validate_pain001(xml.replace(b"<CtrlSum>1.00<", b"<CtrlSum>1.01<", 1), "03")
    assert bad_sum.value.code == "control_sum_mismatch"
    with pytest.raises(sepa.SepaError) as bad_iban:
        sepa.validate_pain001(xml.replace(b"NL18RABO0123459876", b"NL18RABO01234598XX!"), "03")
    assert bad_iban.value.code == "schema_invalid"


def test_cli_settle_confirm_and_cancel(session: Session, rcli) -> None:  # type: ignore[no-untyped-def]
    world = w.seed(session)
    w.pay(session, world.fund, world.shops[0], world.vouchers[0], 2_500)
    session.commit()
    fund = str(world.fund.id)
    past = (TODAY - timedelta(days=1)).isoformat()
    cli = rcli
    refused = cli("settle", fund, "--until", TODAY.isoformat(), "--execution-date", past)
    assert refused.exit_code == 2 and "execution_date_in_past" in refused.output
    made = cli("settle", fund, "--until", TODAY.isoformat(), "--version", "09")
    assert made.exit_code == 0, made.output
    assert "25,00" in made.output
    batch_id = session.execute(select(SettlementBatch.id)).scalar_one()
    session.rollback()  # release SQLite's lock before the next command writes
    early = cli("confirm-batch", str(batch_id), "--reason", "afschrift")
    assert early.exit_code == 2 and "bad_batch_state" in early.output
    exported = cli("settle-export", str(batch_id), "-o", "-")
    assert exported.exit_code == 0 and "pain.001.001.09" in exported.output
    assert cli("confirm-batch", str(batch_id), "--reason", "afschrift").exit_code == 0
    again = cli("cancel-batch", str(batch_id))
    assert again.exit_code == 2 and "bad_batch_state" in again.output


def test_settlement_pages_for_finance(rapp, engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine, expire_on_commit=False) as s:
        world = w.seed(s)
        w.pay(s, world.fund, world.shops[0], world.vouchers[0], 4_321)
        world.shops[1].iban = "NL00BANK0123456789"
        w.pay(s, world.fund, world.shops[1], world.vouchers[1], 99)
        s.commit()
    client = w.login(rapp.test_client(), "financien@voorbeeld.example")
    base = f"/admin/settlement/{world.fund.id}"
    past = (TODAY - timedelta(days=1)).isoformat()
    refused = client.post(
        base, data={"until": TODAY.isoformat(), "execution_date": past, "version": "03"}
    )
    assert refused.status_code == 400 and "execution_date_in_past" in refused.get_data(True)
    made = client.post(
        base,
        data={"until": TODAY.isoformat(), "execution_date": TODAY.isoformat(), "version": "09"},
    )
    assert made.status_code == 302, made.get_data(True)
    page = client.get(made.headers["Location"]).get_data(as_text=True)
    assert "43,21" in page and "Boekhandel" in page and "IBAN" in page
    batch_url = made.headers["Location"]
    xml = client.post(f"{batch_url}/download")
    assert xml.status_code == 200 and b"pain.001.001.09" in xml.data
    assert "attachment" in xml.headers["Content-Disposition"]
    assert _file_amounts(xml.data) == {
        f"KP-{batch_url.rsplit('/', 1)[1]}-{world.shops[0].id}": 4_321
    }
    assert client.post(f"{batch_url}/confirm").status_code == 400  # a reason is needed
    assert client.post(f"{batch_url}/confirm", data={"reason": "afschrift"}).status_code == 302
    assert client.post(f"{batch_url}/cancel").status_code == 409
    with Session(engine) as s:
        batch = s.execute(select(SettlementBatch)).scalar_one()
        assert batch.status == "confirmed"
        # A signed checkpoint covers the payout entries.
        size = s.execute(select(LedgerCheckpoint.size)).scalar_one()
        assert size >= max(p.ledger_seq for p in batch.payouts)
