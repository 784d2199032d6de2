"""A bulk load rolls the report figures up in its own unit of work; a payment does not."""

from __future__ import annotations

from flask import Flask

from admin.reports import rollup
from kindpakket.db import db
from ledger import store


def _deposits(n: int) -> list[store.NewEntry]:
    return [store.NewEntry("fund.deposit", [("bank:1", -100), ("fund:1", 100)]) for _ in range(n)]


def test_a_bulk_load_leaves_the_report_rollup_at_the_chain_head(app: Flask) -> None:
    with app.app_context():
        with db.transaction() as s:
            store.open_accounts(s, ["bank:1", "fund:1"])
            start = store.head(s)[0]
            store.append_many(s, _deposits(1_000))
        with db.transaction() as s:
            # The next report starts from the rollup: nothing of the load is left to sum.
            assert rollup.watermark(s) == store.head(s)[0] == start + 1_000
        with db.transaction() as s:  # one payment-sized entry: no rollup under the chain lock
            store.append_many(s, _deposits(1))
        with db.transaction() as s:
            assert rollup.watermark(s) == start + 1_000
            assert store.head(s)[0] == start + 1_001
