"""Property-based: random appends, refused ones included, keep every ledger invariant."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from ledger import store
from ledger.errors import InsufficientBalance

ACCOUNTS = ["fund:1", "voucher:1", "voucher:2", "voucher:3", "merchant:1:payable:1"]
NON_NEGATIVE = {"voucher:1", "voucher:2", "voucher:3"}

moves = st.lists(
    st.tuples(
        st.sampled_from(ACCOUNTS),
        st.sampled_from(ACCOUNTS),
        st.integers(min_value=1, max_value=5_000),
    ).filter(lambda m: m[0] != m[1]),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batches=st.lists(moves, min_size=1, max_size=6))
def test_random_appends_keep_every_invariant(session: Session, batches) -> None:  # type: ignore[no-untyped-def]
    for name in ACCOUNTS:
        store.open_account(session, name, non_negative=name in NON_NEGATIVE)
    session.commit()
    model = store.balances(session, ACCOUNTS)  # state carries over between examples
    for batch in batches:
        specs = [
            store.NewEntry("transfer.test", [(src, -amt), (dst, amt)]) for src, dst, amt in batch
        ]
        trial = dict(model)
        refused = False
        for src, dst, amt in batch:
            trial[src] -= amt
            trial[dst] += amt
            if src in NON_NEGATIVE and trial[src] < 0:
                refused = True
                break
        try:
            store.append_many(session, specs)
            session.commit()
        except InsufficientBalance:
            session.rollback()
            assert refused, "refused although every account stayed at or above zero"
        else:
            assert not refused, "accepted although a budget would go below zero"
            model = trial
        assert store.balances(session, ACCOUNTS) == model
        assert sum(model.values()) == 0  # double entry: money is only ever moved
    report = store.verify(session)
    assert report.ok, report.problem
    assert all(report.balances.get(a, 0) >= 0 for a in NON_NEGATIVE)
