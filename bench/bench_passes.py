"""Benchmark: printing passes for 20 000 households, and a pass payment beside a phone payment.

Run: ``python -m bench passes`` (``-- --households 20000 --payments 300``).

1. Issue and print passes (A4 sheets) for N households in one fund, as ``kindpakket passes``
   does: rows, MAC'ed codes, the PDF. Target: 20 000 in at most 60 s. The households here
   have a wallet PIN, so no PIN letters; a PIN letter costs one argon2id hash more (timed
   separately with the production parameters, printed beside it).
2. Service-level payments in the same run: ``redemptions.redeem`` with a phone QR token vs
   with a pass code and PIN, each committed. Target: pass <= 1.3x phone. The till checks
   the PIN with its HMAC verifier (kindpakket.pinmac), written beside the argon2id hash when
   the family chose its wallet PIN, as wallet.activation does; argon2id is run at both cost
   settings (printed) for the hashes and for the one-time upgrade of older rows (timed apart).
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import arguments, engines, fresh_database, row
from kindpakket import passwords, pinmac
from kindpakket.keys import Keyring
from kindpakket.seeding import bulk
from kindpakket.seeding import rows as fx
from wallet import tokens

PIN = "27183"


def generation(households: int) -> None:
    """Time issuing and printing passes for ``households`` households (SQLite)."""
    from admin.passes import orders as passorders

    with fresh_database("sqlite") as engine, tempfile.TemporaryDirectory() as tmp:
        ring = Keyring(Path(tmp) / "keys")
        with Session(engine, expire_on_commit=False) as s:
            fund = fx.fund(s, fx.municipality(s), deposit_cents=10**9)
            bulk.households(s, fund, households, children=0, pin_hash="argon2id-placeholder")
            s.commit()
            start = time.perf_counter()
            batch = passorders.print_passes(s, fund, ring, actor="bench", layout="a4")
            s.commit()
            took = time.perf_counter() - start
        assert batch is not None and batch.passes == households
    hashed = _argon2_production_seconds()
    print(f"\nsqlite: passes for {households} households (A4 sheets, no PIN letters)")
    row(
        "seconds to issue and print (target <= 60 for 20 000)",
        f"{took:.1f}",
        "OK" if took <= 60 * households / 20_000 else "TOO SLOW",
    )
    row("PDF size (MB)", f"{len(batch.cards_pdf) / 1e6:.1f}")
    row(
        "ms per PIN letter on top (argon2id, production cost)",
        f"{1000 * hashed:.0f}",
        f"= {hashed * households / 60:.0f} min for {households} letters",
    )


def _argon2_production_seconds() -> float:
    from argon2 import PasswordHasher

    hasher = PasswordHasher()
    start = time.perf_counter()
    for _ in range(3):
        hasher.hash(PIN)
    return (time.perf_counter() - start) / 3


def payments(kind: str, count: int, production_cost: bool) -> None:
    """Time ``count`` phone payments and ``count`` pass payments in the same run."""
    from merchant import redemptions
    from wallet import passes

    if not production_cost:
        passwords.use_low_cost_for_tests()
    with fresh_database(kind, name="kp_bench_pass") as engine, tempfile.TemporaryDirectory() as tmp:
        ring = Keyring(Path(tmp) / "keys")
        ring.ensure("token")
        with Session(engine, expire_on_commit=False) as s:
            fund = fx.fund(s, fx.municipality(s), deposit_cents=10**12)
            vouchers = []
            households = []
            for i in range(20):
                h, vs = fx.family(s, fund, reference=f"H-{i}", children=("A",), budget_cents=10**9)
                h.pin_hash = passwords.hash_secret(PIN)
                households.append(h)
                vouchers += vs
            s.flush()  # the ids go into the verifiers
            for h in households[:19]:  # as wallet.activation writes it; H-19 is an older row
                h.pin_mac = pinmac.make_verifier(ring, pinmac.WALLET, h.id, PIN)
            _shop, _owner, cashier = fx.shop(s, fund)
            s.commit()
            codes = [i.code for i in passes.issue_passes(s, fund, ring, actor="bench")]
            s.commit()
            info, signing = ring.signing_key("token")
            texts = [
                tokens.issue_token(
                    vouchers[i % 20].id, (info.kid, signing), int(time.time()), 600
                ).text
                for i in range(2 * count + 20)
            ]

            def pay(token: str, pin: str | None) -> None:
                redemptions.redeem(
                    s,
                    cashier=cashier,
                    token=token,
                    pin=pin,
                    amount_cents=1,
                    idempotency_key=uuid.uuid4().hex,
                    keyring=ring,
                )
                s.commit()

            for i in range(10):  # warm up both paths
                pay(texts[i], None)
                pay(codes[i], PIN)
            start = time.perf_counter()
            pay(codes[19], PIN)  # the older row: argon2id once, then its verifier is stored
            upgrade = time.perf_counter() - start
            phone = pass_ = 0.0
            for rnd in range(2):  # interleaved halves: drift hits both alike
                start = time.perf_counter()
                for i in range(count // 2):
                    pay(texts[20 + rnd * count + i], None)
                phone += time.perf_counter() - start
                start = time.perf_counter()
                for i in range(count // 2):
                    pay(codes[i % 20], PIN)
                pass_ += time.perf_counter() - start
    cost = "production" if production_cost else "test (lowest)"
    print(f"\n{kind}: {count} payments each, service level, argon2id at {cost} cost")
    row(
        "ms per phone-QR payment / per pass payment",
        f"{1000 * phone / count:.2f} / {1000 * pass_ / count:.2f}",
    )
    row("ms for the one-time upgrade of an older row (argon2id)", f"{1000 * upgrade:.0f}")
    ratio = pass_ / phone
    row("pass / phone (target <= 1.3)", f"{ratio:.2f}", "OK" if ratio <= 1.3 else "OVER")


def main() -> None:
    """Parse arguments and run."""
    args = arguments(__doc__, households=20_000, payments=300)
    generation(args.households)
    kinds = engines(args)
    for kind in kinds:
        payments(kind, args.payments, production_cost=True)
    for kind in kinds:
        payments(kind, args.payments, production_cost=False)


if __name__ == "__main__":
    main()
