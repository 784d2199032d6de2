"""Reports and settlement benchmark: the dashboard of a fund with many payments, a big payout.

    python -m bench.bench_reports [--payments 1000000] [--budget 180] [--no-pg]

Grows one fund's payments in steps (``kindpakket.seeding.bulk``: the ledger and redemption
rows the payment service writes, in big batches) and times ``admin.reports.fund_report`` at
each step, until the target or the generation time budget is reached; then settles 1 000
shops in one batch (payout entries, SEPA file built and validated against the XSD). Aims:
report <= 2 s at 1 M payments, settlement <= 5 s. Baseline in the same run: one
``SELECT count(*)`` over all postings (the cheapest full pass a report could make).

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
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from admin.models import PublicFiguresCache, PublicTally
from admin.reports import services as reports
from admin.settlement import services as settlement
from bench.common import fresh_database, median_seconds, pg_available, row
from kindpakket.seeding import bulk, rows
from kindpakket.time import today as amsterdam_today
from ledger import proofs, store
from ledger.models import LedgerPosting
from wallet.models import Fund

SHOPS = 1_000
VOUCHERS = 20_000
DAYS = 300
World = tuple[int, list[int], list[tuple[int, int]]]  # fund id, voucher ids, (shop, cashier)


def _setup(engine: Engine) -> World:
    """Create a fund, shops with cashiers, and funded vouchers; return their ids."""
    start = amsterdam_today() - timedelta(days=DAYS)
    with Session(engine) as s:
        fund = rows.fund(
            s,
            rows.municipality(s, "bench", "Gemeente Bench"),
            name="Kindpakket Bench",
            budget_cents=10**7,
            deposit_cents=VOUCHERS * 10**7,
            start=start,
            end=amsterdam_today() + timedelta(days=30),
            show_balance_to_shop=False,
        )
        shops = bulk.shops(s, SHOPS, fund=fund)
        at = datetime.combine(start, datetime.min.time(), UTC)
        vouchers = bulk.households(s, fund, VOUCHERS // 2, children=2, issued_at=at)
        s.commit()
        return fund.id, vouchers, shops


def _grow(engine: Engine, world: World, count: int, rng: random.Random) -> None:
    """Add ``count`` payments at random moments of the period, in time order."""
    fund_id, vouchers, shops = world
    first = datetime.now(UTC) - timedelta(days=DAYS)
    moments = sorted(first + timedelta(seconds=rng.randrange(DAYS * 86_400)) for _ in range(count))

    def paid() -> Iterator[bulk.Paid]:
        for at in moments:
            voucher, (shop, cashier) = rng.choice(vouchers), rng.choice(shops)
            yield bulk.Paid(at, voucher, shop, cashier, rng.randrange(1, 2_000))

    with Session(engine) as s:
        bulk.payments(s, fund_id, paid())
        s.commit()


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
    engine: Engine, app: Flask, world: World, rng: random.Random
) -> tuple[float, int]:
    """Add 1 000 payments, sign; return the first view (folds only the new entries)."""
    fund_id = world[0]
    _grow(engine, world, 1_000, rng)
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
        world = _setup(engine)
        fund_id = world[0]
        app = _app(engine, instance)
        rng = random.Random(1)
        have, spent = 0, 0.0
        for step in (100_000, 300_000, 1_000_000, target):
            step = min(step, target)
            if step <= have:
                continue
            t0 = time.perf_counter()
            _grow(engine, world, step - have, rng)
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
            following, size = _next_checkpoint(engine, app, world, rng)
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
