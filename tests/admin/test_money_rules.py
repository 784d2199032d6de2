"""Money rules of the municipality: TARGET2 execution dates, cancelling exported batches,
batches and funds of other municipalities, shop legal names."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from admin.models import SettlementBatch
from admin.settlement import businessdays
from admin.settlement import services as settlement
from admin.shops import services as shops
from kindpakket import time as clock
from kindpakket.audit import AuditEvent
from kindpakket.errors import DomainError
from kindpakket.time import today as amsterdam_today
from ledger import store
from merchant.models import Shop, payable_account
from tests.admin import workload as w

rapp = w.rapp  # fixture
rcli = w.rcli  # fixture


def _next(weekday: int) -> date:
    """Return the first day after today with this weekday (0 = Monday)."""
    day = clock.today() + timedelta(days=1)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


@pytest.mark.parametrize(
    ("year", "easter"),
    [(2024, date(2024, 3, 31)), (2025, date(2025, 4, 20)), (2026, date(2026, 4, 5)),
     (2027, date(2027, 3, 28)), (2038, date(2038, 4, 25)), (2285, date(2285, 3, 22))],
)  # fmt: skip
def test_easter_sunday(year: int, easter: date) -> None:
    assert businessdays.easter_sunday(year) == easter


@pytest.mark.parametrize(
    ("asked", "executed"),
    [
        (date(2026, 12, 4), date(2026, 12, 4)),  # a Friday: open
        (date(2026, 12, 5), date(2026, 12, 7)),  # Saturday -> Monday
        (date(2026, 12, 6), date(2026, 12, 7)),  # Sunday -> Monday
        (date(2026, 12, 25), date(2026, 12, 28)),  # Christmas (Fri), 26th (Sat), Sunday
        (date(2027, 1, 1), date(2027, 1, 4)),  # New Year's Day (Fri)
        (date(2027, 3, 26), date(2027, 3, 30)),  # Good Friday, Easter Monday -> Tuesday
        (date(2027, 5, 1), date(2027, 5, 3)),  # 1 May on a Saturday
        (date(2028, 5, 1), date(2028, 5, 2)),  # 1 May on a Monday
        (date(2026, 4, 27), date(2026, 4, 27)),  # King's Day: TARGET2 is open
    ],
)
def test_execution_dates_move_to_the_next_target2_business_day(asked: date, executed: date) -> None:
    assert businessdays.next_business_day(asked) == executed


def test_a_saturday_execution_date_is_moved_and_said_on_screen(rapp, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine, expire_on_commit=False) as s:
        world = w.seed(s)
        w.pay(s, world.fund, world.shops[0], world.vouchers[0], 1_000)
        s.commit()
    saturday = _next(5)
    monday = saturday + timedelta(days=2)
    expected = businessdays.next_business_day(saturday)
    client = w.login(rapp.test_client(), "financien@voorbeeld.example")
    made = client.post(
        f"/admin/settlement/{world.fund.id}",
        data={"until": clock.today().isoformat(), "execution_date": saturday.isoformat()},
        headers={"Accept-Language": "nl"},
    )
    assert made.status_code == 302, made.get_data(as_text=True)
    page = client.get(made.headers["Location"], headers={"Accept-Language": "nl"})
    text = page.get_data(as_text=True)
    said = clock.format_day(expected, "nl")
    assert f"Uitvoeringsdatum verschoven naar {said}, de eerstvolgende TARGET2-werkdag." in text
    if expected == monday:
        assert said.startswith("maandag ")
    with Session(engine) as s:
        batch = s.execute(select(SettlementBatch)).scalar_one()
        assert batch.execution_date == expected
        assert f"<ReqdExctnDt>{expected.isoformat()}</ReqdExctnDt>" in (batch.xml or b"").decode()


def test_an_exported_batch_is_cancelled_only_with_the_banks_rejection(session: Session) -> None:
    world = w.seed(session)
    w.pay(session, world.fund, world.shops[0], world.vouchers[0], 2_000)
    batch = settlement.settle(session, world.fund, until=clock.today(), actor="test")
    settlement.export_file(session, batch, actor="test")
    session.commit()
    payable = payable_account(world.shops[0].id, world.fund.id)
    for missing in (None, "", "   "):
        with pytest.raises(DomainError) as refused:
            settlement.cancel(session, batch, actor="test", bank_rejection=missing)
        assert refused.value.code == "bank_rejection_required" and refused.value.status == 409
        session.rollback()
        assert batch.status == "exported" and store.balance(session, payable) == 0
    with pytest.raises(DomainError) as long:
        settlement.cancel(session, batch, actor="test", bank_rejection="x" * 301)
    assert long.value.code == "bank_rejection_too_long"
    session.rollback()
    settlement.cancel(session, batch, actor="admin:1", bank_rejection="  pain.002 RJCT  AC04 ")
    session.commit()
    assert batch.status == "cancelled" and batch.cancel_reason == "pain.002 RJCT AC04"
    assert store.balance(session, payable) == 2_000
    event = session.execute(
        select(AuditEvent).where(AuditEvent.name == "settlement.cancelled")
    ).scalar_one()
    assert event.after is not None and event.after["bank_rejection"] == "pain.002 RJCT AC04"
    assert event.municipality_ids == {world.municipality.id} and event.actor == "admin:1"


def test_a_draft_is_cancelled_without_a_bank_rejection(session: Session) -> None:
    world = w.seed(session)
    w.pay(session, world.fund, world.shops[0], world.vouchers[0], 700)
    batch = settlement.settle(session, world.fund, until=clock.today(), actor="test")
    settlement.cancel(session, batch, actor="test")
    assert batch.status == "cancelled" and batch.cancel_reason is None


def test_cancel_page_asks_for_the_banks_rejection(rapp, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine, expire_on_commit=False) as s:
        world = w.seed(s)
        w.pay(s, world.fund, world.shops[0], world.vouchers[0], 1_500)
        batch = settlement.settle(s, world.fund, until=clock.today(), actor="test")
        settlement.export_file(s, batch, actor="test")
        s.commit()
    client = w.login(rapp.test_client(), "financien@voorbeeld.example")
    url = f"/admin/settlement/{world.fund.id}/batches/{batch.id}"
    page = client.get(url, headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert 'name="bank_rejection"' in page and "twee keer betaald" in page
    refused = client.post(f"{url}/cancel", data={}, headers={"Accept-Language": "nl"})
    assert refused.status_code == 409
    assert "afwijzing van de bank" in refused.get_data(as_text=True)
    done = client.post(f"{url}/cancel", data={"bank_rejection": "Bank: bestand niet uitgevoerd"})
    assert done.status_code == 302
    shown = client.get(url).get_data(as_text=True)
    assert "Bank: bestand niet uitgevoerd" in shown
    with Session(engine) as s:
        assert s.get(SettlementBatch, batch.id).status == "cancelled"  # type: ignore[union-attr]


def test_cli_cancels_an_exported_batch_only_with_the_banks_rejection(
    session: Session, rcli
) -> None:  # type: ignore[no-untyped-def]
    world = w.seed(session)
    w.pay(session, world.fund, world.shops[0], world.vouchers[0], 900)
    batch = settlement.settle(session, world.fund, until=clock.today(), actor="test")
    settlement.export_file(session, batch, actor="test")
    session.commit()
    batch_id = batch.id
    session.rollback()
    refused = rcli("cancel-batch", str(batch_id))
    assert refused.exit_code == 2 and "bank_rejection_required" in refused.output
    done = rcli("cancel-batch", str(batch_id), "--bank-rejection", "RJCT AM04")
    assert done.exit_code == 0, done.output
    session.expire_all()
    assert session.get(SettlementBatch, batch_id).cancel_reason == "RJCT AM04"  # type: ignore[union-attr]


def test_no_batch_of_another_municipality_opens_under_ones_own_fund(rapp, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine, expire_on_commit=False) as s:
        world = w.seed(s)
        _, vouchers = w.f.family(s, world.other_fund, reference="X-1")
        w.pay(s, world.other_fund, world.other_shop, vouchers[0], 500)
        world.other_shop.iban = "NL18RABO0123459876"
        theirs = settlement.settle(s, world.other_fund, until=clock.today(), actor="test")
        s.commit()
    client = w.login(rapp.test_client(), "financien@voorbeeld.example")
    url = f"/admin/settlement/{world.fund.id}/batches/{theirs.id}"
    assert client.get(url).status_code == 404
    for action in ("download", "confirm", "cancel"):
        assert client.post(f"{url}/{action}", data={"bank_rejection": "x"}).status_code == 404
    with Session(engine) as s:
        assert s.get(SettlementBatch, theirs.id).status == "draft"  # type: ignore[union-attr]


def test_no_batch_is_opened_for_a_fund_of_another_municipality(rapp, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine, expire_on_commit=False) as s:
        world = w.seed(s)
        _, vouchers = w.f.family(s, world.other_fund, reference="X-1")
        w.pay(s, world.other_fund, world.other_shop, vouchers[0], 500)
        world.other_shop.iban = "NL18RABO0123459876"
        s.commit()
    client = w.login(rapp.test_client(), "financien@voorbeeld.example")
    today = clock.today().isoformat()
    made = client.post(
        f"/admin/settlement/{world.other_fund.id}",
        data={"until": today, "execution_date": businessdays.next_business_day(amsterdam_today())},
    )
    assert made.status_code == 404
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(SettlementBatch)) == 0


def test_municipality_corrects_a_shop_legal_name_audited(rapp, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine, expire_on_commit=False) as s:
        world = w.seed(s)
        shop = world.shops[0]
        shop.name = "北京书店"  # applied before names were checked: approved, never payable
        s.commit()
    client = w.login(rapp.test_client())
    url = f"/admin/shops/{shop.id}"
    page = client.get(url, headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert "Handelsnaam" in page and (" CET" in page or " CEST" in page)
    bad = client.post(f"{url}/name", data={"name": "书店"}, headers={"Accept-Language": "nl"})
    assert bad.status_code == 302
    flashed = client.get(url, headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert "bankoverschrijving" in flashed
    good = client.post(f"{url}/name", data={"name": "Boekhandel Peking"})
    assert good.status_code == 302
    foreign = client.post(f"/admin/shops/{world.other_shop.id}/name", data={"name": "Nieuw"})
    assert foreign.status_code == 404
    with Session(engine) as s:
        assert s.get(Shop, shop.id).name == "Boekhandel Peking"  # type: ignore[union-attr]
        assert s.get(Shop, world.other_shop.id).name == "Winkel Elders"  # type: ignore[union-attr]
        event = s.execute(select(AuditEvent).where(AuditEvent.name == "shop.renamed")).scalar_one()
        assert event.before == {"name": "北京书店"}
        assert event.after == {"name": "Boekhandel Peking"}
        assert event.subject == f"shop:{shop.id}" and event.municipality_ids == {
            world.municipality.id
        }


def test_a_shop_without_a_payable_name_is_not_approved(session: Session) -> None:
    world = w.seed(session)
    shop = world.shops[1]
    shop.name = "★★★"
    with pytest.raises(DomainError) as refused:
        shops.approve(session, shop, world.fund, actor="test")
    assert refused.value.code == "name_not_sepa"
    with pytest.raises(DomainError) as renamed:
        shops.rename_shop(session, shop, "🙂", actor="test")
    assert renamed.value.code == "name_not_sepa"
    shops.rename_shop(session, shop, "Sterren & Co", actor="test")
    assert shops.approve(session, shop, world.fund, actor="test").status == "approved"
