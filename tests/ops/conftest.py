"""Fixtures of the operations tests: the shop world, and payments from many threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.merchant.conftest import World, build_world, keyring, login, pay, raw_token

__all__ = ["keyring"]


@pytest.fixture
def world(session: Any, keyring: Any) -> World:
    """The committed shop world (a family with two vouchers of € 300, approved shops)."""
    return build_world(session, keyring)


def pay_once(client: Any, world: World, voucher: int = 0, cents: int = 100) -> Any:
    """Pay ``cents`` with a fresh token of the family's voucher."""
    token = raw_token(world.keyring, world.vouchers[voucher].id, int(time.time()))
    return pay(client, token=token, amount_cents=cents)


@contextmanager
def paying(app: Any, world: World, threads: int = 3) -> Iterator[list[int]]:
    """Pay € 1 again and again from ``threads`` logged-in clients until the block ends.

    Yields the list of status codes, which grows while the block runs.
    """
    statuses: list[int] = []
    stop = threading.Event()

    def run(i: int) -> None:
        client = app.test_client()
        login(client, world.cashier.email)
        while not stop.is_set():
            statuses.append(pay_once(client, world, voucher=i % 2).status_code)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    try:
        yield statuses
    finally:
        stop.set()
        for w in workers:
            w.join()


def wait_for(statuses: list[int], count: int) -> None:
    """Wait until ``count`` payments have been answered (a bound, not a timing assertion)."""
    deadline = time.monotonic() + 60
    while len(statuses) < count and time.monotonic() < deadline:
        time.sleep(0.01)
