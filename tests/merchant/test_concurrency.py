"""Double spending under real concurrency: threads, one session each, SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from kindpakket.errors import DomainError
from ledger import store
from merchant import redemptions, refunds
from merchant.models import Redemption, Refund, ShopUser
from tests.merchant.conftest import World, key, token_for

THREADS = 32


def _race(engine: Engine, calls: list[Callable[[Session], Any]]) -> list[Any]:
    """Run each call in its own thread and session at (nearly) the same moment."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        with Session(engine, expire_on_commit=False) as s:
            barrier.wait()
            try:
                results[i] = calls[i](s)
                s.commit()
            except DomainError as err:
                s.rollback()
                results[i] = err.code
            except Exception as exc:
                s.rollback()
                results[i] = f"crash: {type(exc).__name__}: {exc}"

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _redeem(
    world: World, amount: int, *, token: str, idem: str | None = None
) -> Callable[[Session], Any]:
    def call(s: Session) -> Any:
        return redemptions.redeem(
            s,
            cashier=s.get(ShopUser, world.cashier.id),
            token=token,
            amount_cents=amount,
            idempotency_key=idem or key(),
            keyring=world.keyring,
        )

    return call


def _outcomes(results: list[Any]) -> Counter[str]:
    return Counter("paid" if isinstance(r, redemptions.Payment) else str(r) for r in results)


def test_32_simultaneous_redemptions_of_one_token_pay_exactly_once(
    engine: Engine, session: Session, world: World
) -> None:
    qr = token_for(session, world.keyring, world.vouchers[0])
    results = _race(engine, [_redeem(world, 100, token=qr.token) for _ in range(THREADS)])
    assert _outcomes(results) == Counter({"paid": 1, "token_used": THREADS - 1})
    session.expire_all()
    assert store.balance(session, world.vouchers[0].account) == 30_000 - 100
    assert session.scalar(select(func.count()).select_from(Redemption)) == 1
    assert store.verify(session).ok


def test_different_tokens_of_one_voucher_never_take_it_below_zero(
    engine: Engine, session: Session, world: World
) -> None:
    voucher = world.vouchers[0]
    qrs = [token_for(session, world.keyring, voucher) for _ in range(THREADS)]
    amount = 1_000  # 32 x 10 euro asked of a 300 euro budget: 30 fit
    results = _race(engine, [_redeem(world, amount, token=q.token) for q in qrs])
    outcome = _outcomes(results)
    assert outcome == Counter({"paid": 30, "insufficient_balance": 2}), outcome
    session.expire_all()
    assert store.balance(session, voucher.account) == 0
    paid = session.scalar(select(func.sum(Redemption.amount_cents)))
    assert paid == 30_000
    assert store.verify(session).ok


def test_one_idempotency_key_sent_concurrently_pays_once(
    engine: Engine, session: Session, world: World
) -> None:
    qr = token_for(session, world.keyring, world.vouchers[0])
    idem = key()
    results = _race(engine, [_redeem(world, 750, token=qr.token, idem=idem) for _ in range(16)])
    assert _outcomes(results) == Counter({"paid": 16}), _outcomes(results)
    payments = {(r.id, r.receipt_number, r.ledger_seq) for r in results}
    assert len(payments) == 1  # every answer is the first result
    assert sum(not r.replayed for r in results) == 1
    session.expire_all()
    assert store.balance(session, world.vouchers[0].account) == 30_000 - 750


def _refund(
    world: World, redemption_id: int, amount: int, idem: str | None
) -> Callable[[Session], Any]:
    def call(s: Session) -> Any:
        return refunds.refund(
            s,
            cashier=s.get(ShopUser, world.cashier.id),
            redemption_id=redemption_id,
            amount_cents=amount,
            reason="wrong size",
            idempotency_key=idem,
        )

    return call


def _paid(engine: Engine, world: World, session: Session, voucher: int, amount: int) -> int:
    qr = token_for(session, world.keyring, world.vouchers[voucher])
    (payment,) = _race(engine, [_redeem(world, amount, token=qr.token)])
    return int(payment.id)


def test_one_refund_key_sent_concurrently_for_two_payments_refunds_once(
    engine: Engine, session: Session, world: World
) -> None:
    first = _paid(engine, world, session, 0, 2_000)
    second = _paid(engine, world, session, 1, 2_000)
    idem = key()
    calls = [_refund(world, (first, second)[i % 2], 500, idem) for i in range(16)]
    results = _race(engine, calls)
    made = [r for r in results if isinstance(r, refunds.RefundResult)]
    assert {r.id for r in made} and len({r.id for r in made}) == 1, results
    conflicts = [r for r in results if r == "idempotency_conflict"]
    assert len(made) + len(conflicts) == 16, results
    assert sum(not r.replayed for r in made) == 1
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Refund)) == 1
    balances = {store.balance(session, world.vouchers[i].account) for i in (0, 1)}
    assert balances == {30_000 - 2_000, 30_000 - 1_500}
    assert store.verify(session).ok


def test_concurrent_refunds_of_one_payment_never_give_back_more_than_was_paid(
    engine: Engine, session: Session, world: World
) -> None:
    paid = _paid(engine, world, session, 0, 1_000)
    results = _race(engine, [_refund(world, paid, 300, None) for _ in range(THREADS)])
    made = [r for r in results if isinstance(r, refunds.RefundResult)]
    assert len(made) == 3, results  # 3 x 3 euro fit in a 10 euro payment; 4 do not
    assert Counter(r for r in results if isinstance(r, str)) == Counter(
        {"refund_too_large": THREADS - 3}
    )
    assert sorted(r.receipt_number for r in made) == sorted({r.receipt_number for r in made})
    session.expire_all()
    assert store.balance(session, world.vouchers[0].account) == 30_000 - 1_000 + 900
    assert store.verify(session).ok
