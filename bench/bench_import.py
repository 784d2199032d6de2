"""Import benchmark: import and issue 100 000 children from a generated CSV file.

    python -m bench.bench_import [--children 100000] [--no-pg]

For each engine (SQLite, and PostgreSQL when it answers) on a fresh migrated database:
parse + validate alone, the full import (households, children, vouchers, one ledger entry
per child) with its commit, and a re-import of the same file (nothing changes). Baseline,
measured in the same run on the same engine: the very rows the import and issuance wrote
(households, children, vouchers, accounts, balances, entries, postings, tree nodes, outbox,
audit, ...; read back afterwards) written into a second fresh database with the same fund,
by plain Core ``executemany`` per table plus the few updates (fund balance, chain head), in
one transaction. Aims: full import <= 20 s on SQLite, <= 25 s on PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Table, and_, func, select
from sqlalchemy.orm import Session

from admin.funds import csvimport, importer
from admin.funds import services as funds
from bench.common import fresh_database, pg_available, row
from kindpakket.models import metadata
from ledger import store
from ledger.models import LedgerEntry
from wallet.models import Municipality

Rows = dict[str, dict[tuple[Any, ...], dict[str, Any]]]  # table -> primary key -> row

HEADER = (
    "huishouden_ref;naam_ouder;adres;postcode;woonplaats;e_mail;telefoon;"
    "kind_ref;voornaam_kind;geboortedatum"
)
NAMES = ["Anouk", "Daan", "Sem", "Lotte", "Noor", "Bram", "Mila", "Finn", "Zoë", "Daniël"]
START = date(2026, 1, 1)


def make_csv(children: int, seed: int = 7) -> bytes:
    """Return a CSV file with ``children`` rows, one to four children per household."""
    rng = random.Random(seed)
    lines = [HEADER]
    household = 0
    while len(lines) <= children:
        household += 1
        parent = f"Ouder {household}"
        street = f"Dorpsstraat {household}"
        postcode = f"{9000 + household % 999} {chr(65 + household % 26)}{chr(65 + household % 7)}"
        for _ in range(rng.randint(1, 4)):
            n = len(lines)
            # Born after 2008-01-01: at most 17 on the reference day, the funds' default age limit.
            born = date(2008, 1, 2) + timedelta(days=rng.randrange(17 * 365))
            lines.append(
                f"H-{household};{parent};{street};{postcode};Zuidhorn;;;"
                f"K-{n};{NAMES[n % len(NAMES)]};{born:%d-%m-%Y}"
            )
            if len(lines) > children:
                break
    return ("\n".join(lines) + "\n").encode()


def _fund(engine: Engine, children: int) -> int:
    """Create a municipality and a fund holding enough money; return the fund id."""
    with Session(engine) as s:
        m = Municipality(name="Gemeente Bench", slug="bench", created_at=datetime.now(UTC))
        s.add(m)
        s.flush()
        fund = funds.create_fund(
            s,
            m,
            name="Kindpakket bench",
            start=START,
            end=date(2026, 12, 31),
            budget_cents=30_000,
            deposit_cents=40_000 * children,
            actor="bench",
            age_bands=[{"min_age": 12, "max_age": 17, "budget_cents": 40_000}],
        )
        s.commit()
        return fund.id


def _import(engine: Engine, fund_id: int, data: bytes) -> tuple[float, importer.ImportSummary]:
    """Run one import with its commit; return seconds and the summary."""
    from wallet.models import Fund

    started = time.perf_counter()
    with Session(engine) as s:
        fund = s.get(Fund, fund_id)
        assert fund is not None
        summary = importer.import_rows(s, fund, data, actor="bench", filename="bench.csv")
        s.commit()
    return time.perf_counter() - started, summary


def _rows(engine: Engine) -> Rows:
    """Return every row of every table, by table name and primary key."""
    out: Rows = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            keys = [c.name for c in table.primary_key]
            out[table.name] = {
                tuple(r[k] for k in keys): r for r in conn.execute(select(table)).mappings()
            }
    return out


def _written(before: Rows, after: Rows) -> list[tuple[Table, list[Any], list[Any]]]:
    """Return per table (parents first) the rows added and the rows changed."""
    out = []
    for table in metadata.sorted_tables:
        old, new = before[table.name], after[table.name]
        added = [dict(r) for k, r in new.items() if k not in old]
        changed = [dict(r) for k, r in new.items() if k in old and old[k] != r]
        if added or changed:
            out.append((table, added, changed))
    return out


def _baseline(kind: str, children: int, written: list[tuple[Table, list[Any], list[Any]]]) -> float:
    """Write ``written`` plainly into a fresh database holding the same fund; return seconds.

    Per table one DB-API ``executemany`` of rows already in the driver's form (the values
    are converted before the clock starts), then the few changed rows, then the commit.
    """
    with fresh_database(kind, name=f"kp_bench_import_plain_{os.getpid()}") as engine:
        _fund(engine, children)
        with engine.connect() as conn:
            mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
            plain = []
            for table, added, _ in written:
                if not added:
                    continue
                columns = list(added[0])
                types = [table.c[c].type.dialect_impl(conn.dialect) for c in columns]
                convert = [t.bind_processor(conn.dialect) for t in types]
                values = [
                    tuple(
                        v if f is None else f(v) for v, f in zip(r.values(), convert, strict=True)
                    )
                    for r in added
                ]
                names, marks = ", ".join(columns), ", ".join([mark] * len(columns))
                plain.append((f"INSERT INTO {table.name} ({names}) VALUES ({marks})", values))
            started = time.perf_counter()
            with conn.begin():
                for sql, values in plain:
                    conn.exec_driver_sql(sql, values)
                for table, _, changed in written:
                    for values in changed:  # a handful: the fund's balance, the chain head
                        key = and_(*(c == values[c.name] for c in table.primary_key))
                        conn.execute(table.update().where(key).values(values))
            return time.perf_counter() - started


def run(kind: str, children: int, data: bytes) -> None:
    """Benchmark one engine."""
    print(f"\n{kind}: {children:,} children, {len(data) / 1e6:.1f} MB CSV")
    with fresh_database(kind, name=f"kp_bench_import_{os.getpid()}") as engine:
        fund_id = _fund(engine, children)
        started = time.perf_counter()
        parsed = csvimport.parse_csv(data, reference_date=START)
        parse_s = time.perf_counter() - started
        assert not parsed.errors, parsed.errors[:3]
        before = _rows(engine)
        import_s, summary = _import(engine, fund_id, data)
        assert summary.imported and summary.children_new == children, summary.errors[:3]
        written = _written(before, _rows(engine))
        baseline_s = _baseline(kind, children, written)
        again_s, again = _import(engine, fund_id, data)
        assert again.children_new == 0 and again.issued_cents == 0
        with Session(engine) as s:
            entries = s.execute(select(func.count()).select_from(LedgerEntry)).scalar_one()
            verify_started = time.perf_counter()
            report = store.verify(s)
            verify_s = time.perf_counter() - verify_started
        assert report.ok, report.problem
        row("parse + validate", f"{parse_s:.2f} s", f"{children / parse_s:,.0f} rows/s")
        row(
            "import + issue (households, children, vouchers, entries)",
            f"{import_s:.2f} s",
            f"{children / import_s:,.0f} children/s; {summary.households:,} households, "
            f"{summary.issued_cents / 100:,.0f} EUR",
        )
        row("re-import same file (no change, no 2nd budget)", f"{again_s:.2f} s")
        count = sum(len(a) + len(c) for _, a, c in written)
        row(
            "baseline: the same rows, plain executemany + commit",
            f"{baseline_s:.2f} s",
            f"{count:,} rows in {len(written)} tables",
        )
        row("ratio import / baseline", f"{import_s / baseline_s:.1f}x")
        row("ledger verify afterwards", f"{verify_s:.2f} s", f"{entries:,} entries OK")
        aim = 20 if kind == "sqlite" else 25
        row(f"aim <= {aim} s", "meets" if import_s <= aim else "MISSES")


def main() -> None:
    """Parse arguments and run the benchmark on each engine."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=100_000)
    parser.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    args = parser.parse_args()
    data = make_csv(args.children)
    run("sqlite", args.children, data)
    if not args.no_pg and pg_available():
        run("postgresql", args.children, data)
    elif not args.no_pg:
        print("\npostgresql: not reachable, skipped")


if __name__ == "__main__":
    main()
