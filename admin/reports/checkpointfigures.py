"""The public figures at a signed checkpoint, computed from the stored entries once and kept.

Computing reads the bytes of entries 1..N (N the checkpoint's tree size), folds their hashes
into the Merkle tree and refuses when the root is not the one signed, so the figures are of
exactly the entries the checkpoint commits to; the same pass folds their money
(:class:`admin.reports.publicfigures.Tally`) with the register read from the tables. One
pass gives every fund; the figures are kept per (fund, checkpoint size) in
``public_figures``, so a page view after the first reads one row, and the fold itself is kept
in ``public_tally``, so the next checkpoint reads only the entries added since.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from admin.models import PublicFiguresCache, PublicTally
from admin.reports.publicfigures import PublicFigures, Register, Tally
from kindpakket.errors import ServerFault
from ledger import checkpoint as ckpt
from ledger import cosign_store, merkle, proofs
from ledger.reading import entry_bytes
from ledger.treecheck import RootTracker
from merchant.models import Shop
from wallet.models import Child, Fund, Voucher

_BLOCK = 256  # entry hashes folded into the tree at a time


@dataclass(frozen=True)
class Signed:
    """What the page says of the checkpoint its figures are computed at."""

    size: int
    root: str  # base64, as in the signed note
    created_at: datetime
    signers: tuple[str, ...]  # key names of the note's own signatures
    witnesses: tuple[tuple[str, datetime], ...]  # who co-signed it, and when


def signed(session: Session, cp: proofs.StoredCheckpoint) -> Signed:
    """Return the checkpoint's size, root, time, signers and co-signing witnesses."""
    _, signatures = ckpt.split_note(cp.note)
    return Signed(
        size=cp.size,
        root=proofs.b64(cp.root),
        created_at=cp.created_at,
        signers=tuple(dict.fromkeys(s.key_name for s in signatures)),
        witnesses=tuple(
            (c.witness, datetime.fromtimestamp(c.signed_at, UTC))
            for c in cosign_store.cosignatures_at(session, cp.size)
        ),
    )


def register(session: Session) -> Register:
    """Return the register as the tables say now: shop categories, budgets' households."""
    shops = session.execute(select(Shop.id, Shop.category))
    vouchers = session.execute(
        select(Voucher.id, Child.household_id).join(Child, Child.id == Voucher.child_id)
    )
    return Register({int(i): str(c) for i, c in shops}, {int(v): int(h) for v, h in vouchers})


@dataclass(frozen=True)
class Computed:
    """Every fund's figures at one checkpoint, and the fold to go on from at the next."""

    size: int
    figures: dict[int, PublicFigures]
    frontier: bytes  # ledger.merkle.encode_frontier of entries 1..size
    state: dict[str, Any]  # Tally.state()


def compute(session: Session, cp: proofs.StoredCheckpoint) -> Computed:
    """Return every fund's figures over the entries checkpoint ``cp`` signs.

    Goes on from the kept fold of an earlier checkpoint when there is one: its entries were
    checked against their own signed root when they were folded, and the frontier kept with
    them carries the tree on to this checkpoint's root, which the new entries must reach.

    Raises:
        ServerFault: ``checkpoint_root_mismatch`` when the stored entries do not have the
            signed root (run ``kindpakket ledger verify``).
    """
    found = register(session)
    kept = session.execute(
        select(PublicTally).where(PublicTally.size <= cp.size).order_by(PublicTally.size.desc())
    ).scalar()
    if kept is None:
        tally, tracker = Tally(found), RootTracker(set())
    else:
        tally = Tally.from_state(kept.state, found)
        tracker = RootTracker(set(), size=kept.size, frontier=merkle.decode_frontier(kept.frontier))
    sha256 = hashlib.sha256
    block: list[bytes] = []
    for data in entry_bytes(session, cp.size, after=tracker.size):
        tally.add(data)
        block.append(sha256(data).digest())
        if len(block) == _BLOCK:
            tracker.add_block(block)
            block = []
    tracker.add_block(block)
    if tracker.size != cp.size or merkle.root_from_frontier(tracker.frontier) != cp.root:
        raise ServerFault(
            "checkpoint_root_mismatch",
            _l("The stored ledger does not match its signed checkpoint; no figures are shown."),
            size=cp.size,
        )
    funds = set(session.execute(select(Fund.id)).scalars())
    return Computed(
        cp.size,
        {f: tally.figures(f) for f in sorted(funds)},
        merkle.encode_frontier(tracker.frontier),
        tally.state(),
    )


def cached(session: Session, fund_id: int, size: int) -> tuple[PublicFigures, datetime] | None:
    """Return the kept figures of ``fund_id`` at checkpoint ``size`` and when they were made."""
    row = session.execute(
        select(PublicFiguresCache.figures, PublicFiguresCache.computed_at).where(
            PublicFiguresCache.fund_id == fund_id, PublicFiguresCache.size == size
        )
    ).one_or_none()
    return None if row is None else (PublicFigures.from_json(row[0]), row[1])


def keep(session: Session, computed: Computed, now: datetime | None = None) -> None:
    """Keep the figures and the fold of one checkpoint; drop those of older ones.

    A second request that computed the same checkpoint meanwhile keeps nothing twice.
    """
    at, size = now or datetime.now(UTC), computed.size
    insert = sqlite.insert if session.get_bind().dialect.name == "sqlite" else postgresql.insert
    rows = [
        {"fund_id": f, "size": size, "computed_at": at, "figures": fig.to_json()}
        for f, fig in computed.figures.items()
    ]
    if rows:
        session.execute(insert(PublicFiguresCache).values(rows).on_conflict_do_nothing())
    session.execute(
        insert(PublicTally)
        .values(size=size, frontier=computed.frontier, state=computed.state, computed_at=at)
        .on_conflict_do_nothing()
    )
    session.execute(delete(PublicFiguresCache).where(PublicFiguresCache.size < size))
    session.execute(delete(PublicTally).where(PublicTally.size < size))
