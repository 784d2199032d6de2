"""Reports and settlement benchmark: the dashboard of a fund with many payments, a big payout.

    python -m bench.bench_reports [--payments 1000000] [--budget 180] [--no-pg]

Grows one fund's payments in steps (ledger.store.append_many in big batches, executemany for
the Redemption rows) and times ``admin.reports.fund_report`` at each step, until the target
or the generation time budget is reached; then settles 1 000 shops in one batch (payout
entries, SEPA file built and validated against the XSD). Aims: report <= 2 s at 1 M
payments, settlement <= 5 s. Baseline in the same run: one ``SELECT count(*)`` over all
postings (the cheapest full pass a report could make).

At each step a checkpoint is signed and the public spending page (``/open/<town>/spending/
<fund>``) is fetched through the app: the first view computes the figures at the checkpoint
from the entries' bytes and keeps them; later views read the kept row. Printed: both times
and their ratio.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import Engine, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from admin.models import PublicFiguresCache, PublicTally
from admin.reports import services as reports
from admin.settlement import services as settlement
from bench.common import fresh_database, median_seconds, pg_available, row
from kindpakket.accounts import voucher_account
from ledger import merkle, proofs, store
from ledger.encoding import EntryBody, Posting, encode, entry_hash, format_timestamp
from ledger.models import LedgerAccount, LedgerBalance, LedgerHead, LedgerPosting
from merchant.models import Shop, ShopUser, payable_account
from wallet.models import Child, Fund, Household, Municipality, Voucher

SHOPS = 1_000
VOUCHERS = 20_000
BATCH = 50_000
COLUMNS = {
    "ledger_entries": ("seq", "kind", "created_at", "prev_hash", "hash", "body"),
    "ledger_postings": ("seq", "pos", "account_id", "amount"),
    "ledger_tree_nodes": ("level", "idx", "hash"),
    "redemptions": (
        "shop_id",
        "fund_id",
        "voucher_id",
        "cashier_id",
        "amount_cents",
        "refunded_cents",
        "nonce",
        "idempotency_key",
        "receipt_number",
        "ledger_seq",
        "entry_hash",
        "created_at",
    ),
}
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
        store.open_accounts(s, map(voucher_account, range(1, VOUCHERS + 1)), non_negative=True)
        store.open_accounts(s, [payable_account(i, fund.id) for i in range(1, SHOPS + 1)])
        total = VOUCHERS * fund.budget_cents
        store.append(s, "fund.deposit", [(fund.bank_account, -total), (fund.account, total)])
        store.append_many(
            s,
            [
                store.NewEntry(
                    "voucher.issue",
                    [(fund.account, -fund.budget_cents), (voucher_account(i), fund.budget_cents)],
                    {"fund": fund.id, "voucher": i},
                )
                for i in range(1, VOUCHERS + 1)
            ],
            at=datetime.combine(start, datetime.min.time(), UTC),
        )
        s.commit()
        return fund.id


def _grow(engine: Engine, fund_id: int, have: int, target: int, rng: random.Random) -> None:
    """Add payments ``have+1 .. target`` at random moments of the period, in time order.

    The fixture is written straight into the tables (COPY on PostgreSQL, executemany on
    SQLite): bodies, hashes, Merkle nodes, balances and head computed as ``append_many``
    does, so ``ledger verify`` still passes (checked by ``_verify``).
    """
    first = datetime.now(UTC) - timedelta(days=DAYS)
    moments = sorted(
        first + timedelta(seconds=rng.randrange(DAYS * 86_400)) for _ in range(target - have)
    )
    with Session(engine) as s:
        ids = {str(n): int(i) for n, i in s.execute(select(LedgerAccount.name, LedgerAccount.id))}
        head = s.execute(select(LedgerHead)).scalar_one()
        seq, prev, frontier = head.seq, head.hash, merkle.decode_frontier(head.frontier)
        for lo in range(0, len(moments), BATCH):
            rows, deltas = _batch(fund_id, ids, moments[lo : lo + BATCH], seq, prev, frontier, rng)
            seq, prev, frontier = rows.pop("head")  # type: ignore[misc]
            _write(s, rows, deltas, have + lo)
        s.execute(
            update(LedgerHead)
            .where(LedgerHead.id == 1)
            .values(seq=seq, hash=prev, frontier=merkle.encode_frontier(frontier))
        )
        s.commit()


def _batch(
    fund_id: int,
    ids: dict[str, int],
    moments: list[datetime],
    seq: int,
    prev: str,
    frontier: list[bytes],
    rng: random.Random,
) -> tuple[dict[str, Any], dict[int, int]]:
    """Build the rows of one batch of payments and the balance change per account id."""
    entries, postings, nodes, redemptions = [], [], [], []
    deltas: dict[int, int] = defaultdict(int)
    for at in moments:
        v, shop, c = (
            rng.randrange(1, VOUCHERS + 1),
            rng.randrange(1, SHOPS + 1),
            rng.randrange(1, 2_000),
        )
        seq += 1
        legs = (Posting(voucher_account(v), -c), Posting(payable_account(shop, fund_id), c))
        meta = {"shop": shop, "receipt": f"R{seq}", "voucher": v, "fund": fund_id}
        body = encode(EntryBody(seq, prev, "redemption", format_timestamp(at), legs, meta, None))
        digest = entry_hash(body)
        entries.append((seq, "redemption", at, prev, digest, body))
        for pos, leg in enumerate(legs):
            postings.append((seq, pos, ids[leg.account], leg.amount))
            deltas[ids[leg.account]] += leg.amount
        frontier, done = merkle.frontier_append(
            frontier, seq - 1, merkle.leaf_hash(bytes.fromhex(digest))
        )
        nodes.extend(done)
        redemptions.append(
            (shop, fund_id, v, shop, c, 0, f"{seq:024x}", f"i{seq}", f"R{seq}", seq, digest, at)
        )
        prev = digest
    rows: dict[str, Any] = {
        "ledger_entries": entries,
        "ledger_postings": postings,
        "ledger_tree_nodes": nodes,
        "redemptions": redemptions,
        "head": (seq, prev, frontier),
    }
    return rows, deltas


def _write(s: Session, rows: dict[str, Any], deltas: dict[int, int], done: int) -> None:
    """Insert the batch: COPY on PostgreSQL, executemany on SQLite; then move the balances."""
    conn = s.connection()
    for table, data in rows.items():
        columns = COLUMNS[table]
        if conn.dialect.name == "postgresql":
            raw = conn.connection.driver_connection
            assert raw is not None
            with raw.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for r in data:
                    copy.write_row(r)
        else:
            marks = ", ".join("?" * len(columns))
            conn.exec_driver_sql(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                data,
            )
    last = rows["ledger_entries"][-1][0]
    conn.execute(
        update(LedgerBalance)
        .where(LedgerBalance.account_id == bindparam("aid"))
        .values(balance=LedgerBalance.balance + bindparam("delta"), last_seq=last),
        [{"aid": a, "delta": d} for a, d in deltas.items()],
    )


def _verify(engine: Engine) -> str:
    """Return whether the generated ledger verifies, for the printout."""
    with Session(engine) as s:
        report = store.verify(s)
    return "verifies" if report.ok else f"DOES NOT VERIFY: {report}"


def _report(engine: Engine, fund_id: int) -> tuple[float, float]:
    """Return the first report's time (it rolls up the new entries) and the median after."""

    def run() -> None:
        with Session(engine) as s:
            fund = s.get(Fund, fund_id)
            assert fund is not None
            reports.fund_report(s, fund, fund.period_start, reports.today())
            s.commit()

    first = median_seconds(run, repeat=1)
    return first, median_seconds(run, repeat=3)


def _baseline(engine: Engine) -> float:
    def run() -> None:
        with Session(engine) as s:
            s.execute(select(func.count()).select_from(LedgerPosting)).scalar_one()

    return median_seconds(run, repeat=3)


def _app(engine: Engine, instance: str) -> Flask:
    """Return the app on the bench's database (for the public page)."""
    from kindpakket import create_app

    url = engine.url.render_as_string(hide_password=False)
    return create_app(
        {"DATABASE_URL": url, "INSTANCE_DIR": instance, "TESTING": True, "SECRET_KEY": "bench"}
    )


def _sign(app: Flask) -> int:
    """Sign a checkpoint of the whole ledger; return its size."""
    from kindpakket.db import db
    from kindpakket.ledger_api import checkpoint_signer

    with app.app_context(), db.transaction() as s:
        return proofs.make_checkpoint(s, checkpoint_signer(), app.config["LEDGER_ORIGIN"]).size


def _view(app: Flask, fund_id: int) -> None:
    answer = app.test_client().get(f"/open/bench/spending/{fund_id}")
    assert answer.status_code == 200 and b"Budget toegekend" in answer.data, answer.status


def _public_page(app: Flask, fund_id: int) -> tuple[float, float, int]:
    """Sign a checkpoint; return the page's first view (from scratch), a kept view, the size."""
    from kindpakket.db import db

    size = _sign(app)

    def first() -> None:
        with app.app_context(), db.transaction() as s:
            s.execute(delete(PublicFiguresCache))
            s.execute(delete(PublicTally))
        _view(app, fund_id)

    return median_seconds(first, repeat=3), median_seconds(lambda: _view(app, fund_id)), size


def _next_checkpoint(
    engine: Engine, app: Flask, fund_id: int, have: int, rng: random.Random
) -> tuple[float, int]:
    """Add 1 000 payments, sign; return the first view (folds only the new entries)."""
    _grow(engine, fund_id, have, have + 1_000, rng)
    size = _sign(app)
    return median_seconds(lambda: _view(app, fund_id), repeat=1), size


def _settle(engine: Engine, fund_id: int) -> tuple[float, int]:
    with Session(engine) as s:
        fund = s.get(Fund, fund_id)
        assert fund is not None
        start = time.perf_counter()
        batch = settlement.settle(s, fund, until=reports.today(), actor="bench")
        s.commit()
        return time.perf_counter() - start, batch.payout_count


def run(kind: str, target: int, budget: float, db_name: str = "kp_bench_reports") -> None:
    """Grow, time the report at each step, then time one settlement."""
    print(f"\n{kind}: report of one fund ({VOUCHERS} vouchers, {SHOPS} shops)")
    with (
        fresh_database(kind, db_name) as engine,
        tempfile.TemporaryDirectory() as instance,
    ):
        fund_id = _setup(engine)
        app = _app(engine, instance)
        rng = random.Random(1)
        have, spent = 0, 0.0
        for step in (100_000, 300_000, 1_000_000, target):
            step = min(step, target)
            if step <= have:
                continue
            t0 = time.perf_counter()
            _grow(engine, fund_id, have, step, rng)
            spent += time.perf_counter() - t0
            prev, have = have, step
            first, seconds = _report(engine, fund_id)
            base = _baseline(engine)
            row(
                f"dashboard report, {have:>9,} payments",
                f"{seconds:.2f} s",
                f"first (rolls up {step - prev:,} new) {first:.2f} s; "
                f"count(*) of postings {base:.2f} s; generated in {spent:.0f} s",
            )
            first, kept, size = _public_page(app, fund_id)
            row(
                f"public page at checkpoint {size:>9,}",
                f"{kept * 1000:.1f} ms",
                f"first view (computes from {size:,} entries) {first:.2f} s; "
                f"kept / first {kept / first:.4f}",
            )
            following, size = _next_checkpoint(engine, app, fund_id, have, rng)
            have += 1_000
            row(
                f"  next checkpoint, 1 000 payments later {size:>9,}",
                f"{following:.2f} s",
                f"first view, fold goes on from the kept one; / from scratch "
                f"{following / first:.3f}",
            )
            if have == min(100_000, target):
                print(f"  generated ledger {_verify(engine)}")
            if spent > budget:
                print(f"  stopped growing: generation took {spent:.0f} s (budget {budget:.0f} s)")
                break
        seconds, shops = _settle(engine, fund_id)
        row(f"settlement of {shops} shops (payouts + SEPA + XSD)", f"{seconds:.2f} s")
        app.extensions["kindpakket_db"][0].dispose()


def main() -> None:
    """Run on SQLite, then PostgreSQL when it answers."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--payments", type=int, default=1_000_000)
    parser.add_argument("--budget", type=float, default=180.0, help="seconds of generation")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--db-name", default="kp_bench_reports", help="PostgreSQL database")
    args = parser.parse_args()
    if not args.no_sqlite:
        run("sqlite", args.payments, args.budget)
    if not args.no_pg and pg_available():
        run("postgresql", args.payments, args.budget, args.db_name)


if __name__ == "__main__":
    main()
