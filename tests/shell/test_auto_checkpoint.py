"""The unit of work signs a checkpoint by itself once enough entries are uncovered."""

from __future__ import annotations

from ledger import proofs, store


def test_checkpoint_is_made_every_n_entries(app_config) -> None:  # type: ignore[no-untyped-def]
    from kindpakket import create_app
    from kindpakket.db import db

    app = create_app({**app_config, "CHECKPOINT_EVERY_ENTRIES": 3, "CHECKPOINT_EVERY_SECONDS": 0})
    with app.app_context():
        with db.transaction() as s:
            store.open_account(s, "bank:1")
            store.open_account(s, "fund:1")
            store.append(s, "fund.deposit", [("bank:1", -10), ("fund:1", 10)])
        with db.transaction() as s:
            assert proofs.latest_checkpoint(s) is None  # 1 entry: not due yet
            for _ in range(2):
                store.append(s, "fund.deposit", [("bank:1", -10), ("fund:1", 10)])
        with db.transaction() as s:
            latest = proofs.latest_checkpoint(s)
            assert latest is not None and latest.size == 3
    app.extensions["kindpakket_db"][0].dispose()
