"""Reports and settlement benchmark: the dashboard of a fund with many payments, a big payout.

    python -m bench.bench_reports [--payments 1000000] [--budget 180] [--no-pg]

Grows one fund's payments in steps (ledger.store.append_many in big batches, executemany for
the Redemption rows) and times ``admin.reports.fund_report`` at each step, until the target
or the generation time budget is reached; then settles 1 000 shops in one batch (payout
entries, SEPA file built and validated against the XSD). Aims: report <= 2 s at 1 M
payments, settlement <= 5 s. Baseline in the same run: one ``SELECT count(*)`` over all
postings (the cheapest full pass a report could make).
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from admin import reports, settlement
from bench.common import fresh_database, median_seconds, pg_available, row
from ledger import store
from ledger.models import LedgerPosting
from merchant.models import Redemption, Shop, ShopUser, payable_account
from wallet.models import Child, Fund, Household, Municipality, Voucher

SHOPS = 1_000
VOUCHERS = 20_000
BATCH = 20_000
DAYS = 300
IBANS = ("NL18RABO0123459876", "NL20INGB0001234567", "NL91ABNA0417164300")


def _setup(engine: Engine) -> int:
    """Create a municipality, a fund, shops with cashiers, and funded vouchers; return fund id."""
    now = datetime.now(UTC)
    start = date.today() - timedelta(days=DAYS)
    with Session(engine) as s:
        m = Municipality(
            name="Gemeente Bench",
            slug="bench",
            iban="NL91ABNA0417164300",
            bic="ABNANL2A",
            created_at=now,
        )
        s.add(m)
        s.flush()
        fund = Fund(
            municipality_id=m.id,
            name="Kindpakket Bench",
            period_start=start,
            period_end=date.today() + timedelta(days=30),
            budget_cents=10**7,
            reference_date=start,
            age_bands=[],
            categories=[],
            pro_rata=False,
            show_balance_to_shop=False,
            status="open",
            created_at=now,
        )
        s.add(fund)
        s.flush()
        s.execute(
            insert(Shop),
            [
                {
                    "id": i,
                    "name": f"Winkel {i}",
                    "kvk": f"{i:08d}",
                    "iban": IBANS[i % 3],
                    "bic": None,
                    "address": "Straat 1",
                    "postcode": "9801 AA",
                    "city": "Zuidhorn",
                    "category": ("books", "sports", "bicycles", "clothes")[i % 4],
                    "email": f"w{i}@bench.example",
                    "status": "active",
                    "created_at": now,
                }
                for i in range(1, SHOPS + 1)
            ],
        )
        s.execute(
            insert(ShopUser),
            [
                {
                    "id": i,
                    "shop_id": i,
                    "email": f"k{i}@bench.example",
                    "name": "Kassa",
                    "password_hash": "x",
                    "role": "cashier",
                    "active": True,
                    "created_at": now,
                }
                for i in range(1, SHOPS + 1)
            ],
        )
        households = VOUCHERS // 2
        s.execute(
            insert(Household),
            [
                {
                    "id": i,
                    "fund_id": fund.id,
                    "reference": f"H{i}",
                    "parent_name": "Ouder",
                    "address": "Straat 1",
                    "postcode": "9801 AA",
                    "city": "Zuidhorn",
                    "pin_failures": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(1, households + 1)
            ],
        )
        s.execute(
            insert(Child),
            [
                {
                    "id": i,
                    "fund_id": fund.id,
                    "household_id": 1 + (i - 1) // 2,
                    "reference": f"K{i}",
                    "first_name": "Kind",
                    "birth_date": date(2016, 1, 1),
                    "in_latest_import": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(1, VOUCHERS + 1)
            ],
        )
        s.execute(
            insert(Voucher),
            [
                {"id": i, "fund_id": fund.id, "child_id": i, "status": "active", "created_at": now}
                for i in range(1, VOUCHERS + 1)
            ],
        )
        store.open_account(s, fund.bank_account)
        store.open_account(s, fund.account)
        store.open_accounts(s, [f"voucher:{i}" for i in range(1, VOUCHERS + 1)], non_negative=True)
        store.open_accounts(s, [payable_account(i, fund.id) for i in range(1, SHOPS + 1)])
        total = VOUCHERS * fund.budget_cents
        store.append(s, "fund.deposit", [(fund.bank_account, -total), (fund.account, total)])
        store.append_many(
            s,
            [
                store.NewEntry(
                    "voucher.issue",
                    [(fund.account, -fund.budget_cents), (f"voucher:{i}", fund.budget_cents)],
                    {"fund": fund.id, "voucher": i},
                )
                for i in range(1, VOUCHERS + 1)
            ],
            at=datetime.combine(start, datetime.min.time(), UTC),
        )
        s.commit()
        return fund.id


def _grow(engine: Engine, fund_id: int, have: int, target: int, rng: random.Random) -> None:
    """Add payments ``have+1 .. target``, each batch stamped on a day of the period."""
    first_day = datetime.now(UTC) - timedelta(days=DAYS)
    while have < target:
        n = min(BATCH, target - have)
        at = first_day + timedelta(days=rng.randrange(DAYS), seconds=rng.randrange(86_400))
        picks = [
            (rng.randrange(1, VOUCHERS + 1), rng.randrange(1, SHOPS + 1), rng.randrange(1, 2_000))
            for _ in range(n)
        ]
        with Session(engine) as s:
            done = store.append_many(
                s,
                [
                    store.NewEntry(
                        "redemption",
                        [(f"voucher:{v}", -c), (payable_account(shop, fund_id), c)],
                        {
                            "shop": shop,
                            "shop_name": f"Winkel {shop}",
                            "receipt": f"R{have + k}",
                            "voucher": v,
                            "fund": fund_id,
                        },
                    )
                    for k, (v, shop, c) in enumerate(picks)
                ],
                at=at,
            )
            s.execute(
                insert(Redemption),
                [
                    {
                        "shop_id": shop,
                        "fund_id": fund_id,
                        "voucher_id": v,
                        "cashier_id": shop,
                        "amount_cents": c,
                        "refunded_cents": 0,
                        "nonce": f"{have + k:024x}",
                        "idempotency_key": f"i{have + k}",
                        "receipt_number": f"R{have + k}",
                        "ledger_seq": e.seq,
                        "entry_hash": e.hash,
                        "created_at": at,
                    }
                    for k, ((v, shop, c), e) in enumerate(zip(picks, done, strict=True))
                ],
            )
            s.commit()
        have += n


def _report(engine: Engine, fund_id: int) -> float:
    def run() -> None:
        with Session(engine) as s:
            fund = s.get(Fund, fund_id)
            assert fund is not None
            reports.fund_report(s, fund, fund.period_start, reports.today())

    return median_seconds(run, repeat=3)


def _baseline(engine: Engine) -> float:
    def run() -> None:
        with Session(engine) as s:
            s.execute(select(func.count()).select_from(LedgerPosting)).scalar_one()

    return median_seconds(run, repeat=3)


def _settle(engine: Engine, fund_id: int) -> tuple[float, int]:
    with Session(engine) as s:
        fund = s.get(Fund, fund_id)
        assert fund is not None
        start = time.perf_counter()
        batch = settlement.settle(s, fund, until=reports.today(), actor="bench")
        s.commit()
        return time.perf_counter() - start, batch.payout_count


def run(kind: str, target: int, budget: float) -> None:
    """Grow, time the report at each step, then time one settlement."""
    print(f"\n{kind}: report of one fund ({VOUCHERS} vouchers, {SHOPS} shops)")
    with fresh_database(kind, "kp_bench_reports") as engine:
        fund_id = _setup(engine)
        rng = random.Random(1)
        have, spent = 0, 0.0
        for step in (100_000, 300_000, 1_000_000, target):
            step = min(step, target)
            if step <= have:
                continue
            t0 = time.perf_counter()
            _grow(engine, fund_id, have, step, rng)
            spent += time.perf_counter() - t0
            have = step
            seconds = _report(engine, fund_id)
            base = _baseline(engine)
            row(
                f"dashboard report, {have:>9,} payments",
                f"{seconds:.2f} s",
                f"count(*) of postings {base:.2f} s; generated in {spent:.0f} s",
            )
            if spent > budget:
                print(f"  stopped growing: generation took {spent:.0f} s (budget {budget:.0f} s)")
                break
        seconds, shops = _settle(engine, fund_id)
        row(f"settlement of {shops} shops (payouts + SEPA + XSD)", f"{seconds:.2f} s")


def main() -> None:
    """Run on SQLite, then PostgreSQL when it answers."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--payments", type=int, default=1_000_000)
    parser.add_argument("--budget", type=float, default=180.0, help="seconds of generation")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    if not args.no_sqlite:
        run("sqlite", args.payments, args.budget)
    if not args.no_pg and pg_available():
        run("postgresql", args.payments, args.budget)


if __name__ == "__main__":
    main()
