"""Import benchmark: import and issue 100 000 children from a generated CSV file.

    python -m bench.bench_import [--children 100000] [--no-pg]

For each engine (SQLite, and PostgreSQL when it answers) on a fresh migrated database:
parse + validate alone, the full import (households, children, vouchers, one ledger entry
per child) with its commit, and a re-import of the same file (nothing changes). Baseline,
measured in the same run on the same engine: a plain Core ``executemany`` insert of the same
rows (ten columns) into a scratch table plus commit. Aim: full import <= 20 s on SQLite.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Column, Date, Engine, Integer, MetaData, String, Table, func, select
from sqlalchemy.orm import Session

from admin.funds import csvimport, importer
from admin.funds import services as funds
from bench.common import fresh_database, pg_available, row
from ledger import store
from ledger.models import LedgerEntry
from wallet.models import Municipality

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


def _baseline(engine: Engine, rows: list[csvimport.ImportRow]) -> float:
    """Insert the same rows with a plain Core executemany and commit; return seconds."""
    meta = MetaData()
    table = Table(
        "bench_plain_rows",
        meta,
        Column("id", Integer, primary_key=True),
        Column("household_ref", String(64)),
        Column("parent_name", String(160)),
        Column("address", String(200)),
        Column("postcode", String(16)),
        Column("city", String(80)),
        Column("email", String(200)),
        Column("phone", String(40)),
        Column("child_ref", String(64)),
        Column("first_name", String(80)),
        Column("birth_date", Date),
    )
    meta.create_all(engine)
    values = [
        {
            "household_ref": r.household_ref,
            "parent_name": r.parent_name,
            "address": r.address,
            "postcode": r.postcode,
            "city": r.city,
            "email": r.email,
            "phone": r.phone,
            "child_ref": r.child_ref,
            "first_name": r.child_first_name,
            "birth_date": r.birth_date,
        }
        for r in rows
    ]
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(table.insert(), values)
    seconds = time.perf_counter() - started
    meta.drop_all(engine)
    return seconds


def run(kind: str, children: int, data: bytes) -> None:
    """Benchmark one engine."""
    print(f"\n{kind}: {children:,} children, {len(data) / 1e6:.1f} MB CSV")
    with fresh_database(kind, name="kp_bench_import") as engine:
        fund_id = _fund(engine, children)
        started = time.perf_counter()
        parsed = csvimport.parse_csv(data, reference_date=START)
        parse_s = time.perf_counter() - started
        assert not parsed.errors, parsed.errors[:3]
        baseline_s = _baseline(engine, parsed.rows)
        import_s, summary = _import(engine, fund_id, data)
        assert summary.imported and summary.children_new == children, summary.errors[:3]
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
        row("baseline: plain executemany insert + commit", f"{baseline_s:.2f} s")
        row("ratio import / baseline", f"{import_s / baseline_s:.1f}x")
        row("ledger verify afterwards", f"{verify_s:.2f} s", f"{entries:,} entries OK")
        if kind == "sqlite":
            verdict = "meets" if import_s <= 20 else "MISSES"
            row("aim <= 20 s on SQLite", verdict)


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
