"""Bank-file benchmark: import a camt.053 of 10 000 lines matched against 1 000 payouts.

    python -m bench.bench_bank [--lines 10000] [--payouts 1000] [--no-pg]

For each engine (SQLite, and PostgreSQL when it answers) on a fresh migrated database with
1 000 shops and an exported batch of 1 000 payouts: the full import (safe parse, XSD check,
matching, 990 payouts booked, 10 returned with their ledger entries, the rest kept as
unmatched lines, audit events) with its commit, then the same file again (nothing changes).
Baseline in the same run: a plain lxml parse of the same bytes, and parse + XSD validation.
Aim: the import <= 5 s.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

from lxml import etree
from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from admin.models import Payout, SettlementBatch
from admin.settlement import bankimport, bankxml
from bench.common import arguments, engines, fresh_database, row
from kindpakket.seeding import bankfiles as g
from kindpakket.seeding import bulk, rows
from wallet.models import Municipality

NOW = datetime.now(UTC)


def _world(engine: Engine, payouts: int) -> tuple[int, str, list[tuple[str, int]]]:
    """Create a municipality, a fund, shops and one exported batch; return ids and payouts."""
    with Session(engine) as s:
        m = rows.municipality(s, "bench", "Gemeente Bench")
        fund = rows.fund(
            s,
            m,
            name="Bench",
            start=date(2026, 1, 1),
            end=date(2026, 12, 31),
            deposit_cents=100_000_000,
        )
        shop_ids = [shop for shop, _cashier in bulk.shops(s, payouts, fund=fund)]
        batch = SettlementBatch(
            fund_id=fund.id,
            until_date=date(2026, 3, 10),
            execution_date=date(2026, 3, 11),
            status="exported",
            message_id="KP-BENCH-1",
            pain_version="03",
            total_cents=0,
            payout_count=payouts,
            skipped=[],
            created_by="bench",
            created_at=NOW,
        )
        s.add(batch)
        s.flush()
        paid_out = [(f"KP-{batch.id}-{shop}", 1_000 + i) for i, shop in enumerate(shop_ids)]
        s.execute(
            insert(Payout),
            [
                dict(
                    batch_id=batch.id,
                    shop_id=shop,
                    amount_cents=cents,
                    payment_count=3,
                    end_to_end_id=e2e,
                    ledger_seq=1,
                )
                for (e2e, cents), shop in zip(paid_out, shop_ids, strict=True)
            ],
        )
        batch.total_cents = sum(c for _, c in paid_out)
        s.commit()
        return m.id, batch.message_id, paid_out


def statement(msg_id: str, payouts: list[tuple[str, int]], lines: int) -> bytes:
    """Return a camt.053 with one entry per payout (ten of them returns) and unrelated lines."""
    booked, returned = payouts[10:], payouts[:10]
    entries = [
        g.Ntry(c, ref=f"B{i}", msg_id=msg_id, pmt_inf_id=msg_id, txs=[g.Tx(e2e, c)])
        for i, (e2e, c) in enumerate(booked)
    ]
    entries += [
        g.Ntry(c, credit=True, ref=f"R{i}", subfamily="RRTN", txs=[g.Tx(e2e, c, "AC04")])
        for i, (e2e, c) in enumerate(returned)
    ]
    entries += [
        g.Ntry(100 + i, credit=bool(i % 2), ref=f"U{i}", text=f"Overboeking {i}")
        for i in range(lines - len(entries))
    ]
    return g.statement(entries, check=False)


def run(kind: str, lines: int, payouts: int) -> None:
    with fresh_database(kind) as engine:
        municipality_id, msg_id, rows = _world(engine, payouts)
        data = statement(msg_id, rows, lines)
        start = time.perf_counter()
        etree.fromstring(data, bankxml.parser())
        parse = time.perf_counter() - start
        start = time.perf_counter()
        bankxml.parse_safely(data)
        validate = time.perf_counter() - start
        with Session(engine) as s:
            m = s.get(Municipality, municipality_id)
            assert m is not None
            start = time.perf_counter()
            record, new = bankimport.import_file(s, m, data, filename="b.xml", actor="bench")
            s.commit()
            full = time.perf_counter() - start
            assert new and record.summary["booked"] == payouts - 10, record.summary
            start = time.perf_counter()
            _, again = bankimport.import_file(s, m, data, filename="b.xml", actor="bench")
            s.commit()
            twice = time.perf_counter() - start
            assert not again
    mb = len(data) / 1e6
    row(f"[{kind}] baseline: lxml parse ({lines} lines, {mb:.1f} MB)", f"{parse:.2f} s")
    row(f"[{kind}] baseline: safe parse + XSD validation", f"{validate:.2f} s")
    row(
        f"[{kind}] import + match {payouts} payouts + commit",
        f"{full:.2f} s",
        "aim <= 5 s" + (" OK" if full <= 5 else " MISSED"),
    )
    row(f"[{kind}] the same file again (nothing changes)", f"{twice:.3f} s")


def main() -> None:
    """Parse arguments and run on each engine."""
    args = arguments(__doc__, lines=10_000, payouts=1_000)
    for kind in engines(args):
        run(kind, args.lines, args.payouts)


if __name__ == "__main__":
    main()
