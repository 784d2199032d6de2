"""Benchmark: payment tokens signed and drawn as QR SVG per second vs bare Ed25519 signatures.

Run: ``.venv/bin/python bench/bench_tokens.py [--seconds 2]``. Prints both rates and their
ratio. The QR step is timed uncached (every token is new, as in production).
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nacl.signing import SigningKey

from wallet import tokens
from wallet.payments import qr_svg


def rate(work: Callable[[int], object], seconds: float) -> tuple[float, int]:
    """Run work(i) repeatedly for about ``seconds``; return (operations per second, count)."""
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        work(count)
        count += 1
    return count / (time.perf_counter() - start), count


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    args = parser.parse_args()
    key = SigningKey.generate()
    kid = secrets.token_bytes(4)
    now = int(time.time())
    message = b"KP1" + secrets.token_bytes(tokens.PAYLOAD_BYTES)

    bare, bare_n = rate(lambda _i: key.sign(message), args.seconds)
    signed, signed_n = rate(lambda i: tokens.issue_token(i + 1, (kid, key), now), args.seconds)

    def token_and_qr(i: int) -> str:
        issued = tokens.issue_token(i + 1, (kid, key), now)
        return qr_svg.__wrapped__(issued.text)  # bypass the per-token cache: every code is new

    drawn, drawn_n = rate(token_and_qr, args.seconds)
    print(f"bare Ed25519 signatures     : {bare:12,.0f} /s  ({bare_n} in {args.seconds:g} s)")
    print(f"tokens signed (no QR)       : {signed:12,.0f} /s  ({signed_n})")
    print(f"tokens signed + QR SVG      : {drawn:12,.0f} /s  ({drawn_n})")
    print(f"ratio bare / (token + QR)   : {bare / drawn:12,.1f} x")
    print(f"ratio token+QR / bare       : {drawn / bare:12.4f}")


if __name__ == "__main__":
    main()
