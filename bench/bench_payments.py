"""Payments per second end to end over HTTP on gunicorn, beside a plain payment app.

    python -m bench.bench_payments [--clients 16,64] [--count 2000] [--seconds 20] [--no-pg]
    python -m bench.bench_payments --in-process [--count 300]   # ms and SQL statements each

For each engine (SQLite, then PostgreSQL when reachable): a fresh migrated database with one
fund, 200 funded vouchers and an approved shop; gunicorn (gthread) on 127.0.0.1 serving the
real app; the cashier logs in once over HTTP (CSRF on); distinct signed tokens are made up
front. The baseline, ``bench/plain_app.py`` (same token check, same durability, a balance
column under a row lock, no ledger), runs on a second gunicorn with the same settings, in
the same database. For 16 and then 64 client threads with keep-alive connections
(http.client), the plain app and then Kindpakket take payments, each phase bounded by a
count and a time. Printed: payments per second, p50 and p99 latency, the ratio to the plain
app, the chain-lock hold time per payment (from /metrics), the time from starting gunicorn
to its first answer; then every answered payment is checked against its ledger entry (seq,
hash, receipt number) and the ledger is verified. Loopback only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bench.common import free_port, fresh_database, pg_available, row
from kindpakket.keys import Keyring
from kindpakket.seeding import rows as fx
from wallet import tokens

ROOT = Path(__file__).resolve().parents[1]
VOUCHERS = 200
AMOUNT = 100  # cents per payment: 300 payments fit in one 300-euro voucher


@dataclass
class Phase:
    """What one load phase measured."""

    done: int
    seconds: float
    latencies: list[float]
    failures: int

    @property
    def rate(self) -> float:
        """Return requests per second."""
        return self.done / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        """Return the p-th percentile latency in milliseconds."""
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return 1000 * ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def _seed(engine: Engine, key_dir: Path) -> dict[str, object]:
    """Create the fund, vouchers and an approved shop; return ids."""
    with Session(engine, expire_on_commit=False) as s:
        m = fx.municipality(s)
        fund = fx.fund(s, m, deposit_cents=10**12)
        vouchers = []
        for i in range(VOUCHERS // 2):
            _h, vs = fx.family(s, fund, reference=f"H-{i}")
            vouchers += [v.id for v in vs]
        _shop, _owner, cashier = fx.shop(s, fund)
        s.commit()
        assert cashier is not None
    ring = Keyring(key_dir)
    ring.ensure("token")
    return {"vouchers": vouchers, "cashier": cashier.email}


def _tokens(key_dir: Path, vouchers: list[int], count: int) -> list[str]:
    ring = Keyring(key_dir)
    info, signing = ring.signing_key("token")
    now = int(time.time())
    return [
        tokens.issue_token(vouchers[i % len(vouchers)], (info.kid, signing), now, 600).text
        for i in range(count)
    ]


@contextmanager
def gunicorn(
    url: str, instance: Path, workers: int, threads: int, app: str = "kindpakket:create_app()"
) -> Iterator[int]:
    """Run ``app`` on gunicorn (gthread) on 127.0.0.1; yield the port.

    Kindpakket gets a metrics token and a multiprocess metrics directory, so the chain-lock
    hold times of every worker can be read from /metrics.
    """
    port = free_port()
    metrics = instance / f"metrics-{port}"
    metrics.mkdir()
    env = {
        **os.environ,
        "KINDPAKKET_DATABASE_URL": url,
        "KINDPAKKET_INSTANCE_DIR": str(instance),
        "KINDPAKKET_SECRET_KEY": "bench-secret",
        "KINDPAKKET_METRICS_TOKEN": METRICS_TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
    }
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"]
    command += ["--worker-class", "gthread", "--workers", str(workers)]
    # --preload: the app is built once before the workers fork (create_app opens no
    # connection), so a restarted server answers in about one create_app, not one per worker.
    command += ["--threads", str(threads), "--preload", "--log-level", "warning", app]
    started = time.perf_counter()
    log = (instance / f"gunicorn-{port}.log").open("w")  # the JSON request log, off screen
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("gunicorn did not start")
        STARTUP[app] = time.perf_counter() - started
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


METRICS_TOKEN = "bench-metrics-token"
STARTUP: dict[str, float] = {}  # seconds from starting gunicorn to the first healthz answer
_HOLD = re.compile(r'kindpakket_chain_lock_hold_seconds_bucket\{le="([^"]+)"\} ([0-9.e+]+)')


def _hold_buckets(port: int) -> dict[float, float]:
    """Return the cumulative chain-lock hold histogram of all workers (le -> count)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    body = conn.getresponse().read().decode()
    out: dict[float, float] = {}
    for le, count in _HOLD.findall(body):
        out[float(le)] = out.get(float(le), 0) + float(count)
    return out


def _hold_pct(before: dict[float, float], after: dict[float, float], p: float) -> float:
    """Return the p-th percentile (ms, bucket upper bound) of the holds between two scrapes."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0) for b in bounds]
    if not counts or counts[-1] <= 0:
        return float("nan")
    for bound, count in zip(bounds, counts, strict=True):
        if count >= p / 100 * counts[-1]:
            return 1000 * bound
    return float("inf")


def _login(port: int, email: str) -> tuple[str, str]:
    """Log the cashier in over HTTP; return (cookie, csrf token) for the API calls."""
    conn = http.client.HTTPConnection("127.0.0.1", port)

    def get(path: str, cookie: str = "") -> tuple[str, str]:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        r = conn.getresponse()
        body = r.read().decode()
        return body, _cookie(r.getheader("Set-Cookie")) or cookie

    page, cookie = get("/merchant/login")
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = f"csrf_token={token}&email={email}&password={fx.PASSWORD.replace(' ', '+')}"
    conn.request(
        "POST",
        "/merchant/login",
        body=form,
        headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )
    r = conn.getresponse()
    r.read()
    if r.status != 302:
        raise RuntimeError(f"login failed: {r.status}")
    cookie = _cookie(r.getheader("Set-Cookie")) or cookie
    page, cookie = get("/merchant/scan", cookie)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return cookie, token


def _cookie(header: str | None) -> str:
    return header.split(";", 1)[0] if header else ""


def _load(
    port: int,
    clients: int,
    count: int,
    seconds: float,
    request: Callable[[http.client.HTTPConnection, int], bool],
) -> Phase:
    """Run ``count`` requests over ``clients`` keep-alive connections, at most ``seconds``."""
    lock = threading.Lock()
    issued = iter(range(count))
    latencies: list[float] = []
    failures = [0]
    stop = time.perf_counter() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        bad = 0
        while time.perf_counter() < stop:
            with lock:
                i = next(issued, None)
            if i is None:
                break
            t0 = time.perf_counter()
            ok = request(conn, i)
            mine.append(time.perf_counter() - t0)
            bad += not ok
        with lock:
            latencies.extend(mine)
            failures[0] += bad
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Phase(len(latencies), time.perf_counter() - start, latencies, failures[0])


def run(
    kind: str, clients: list[int], count: int, seconds: float, workers: int, threads: int
) -> None:
    """Benchmark one engine: Kindpakket beside the plain app, same server, same client."""
    from bench import plain_app

    with fresh_database(kind, name="kp_bench_pay") as engine, tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp)
        url = engine.url.render_as_string(hide_password=False)
        seeded = _seed(engine, instance / "keys")
        vouchers: list[int] = seeded["vouchers"]  # type: ignore[assignment]
        plain_app.create_tables(engine, vouchers, 30_000)
        phases = len(clients)
        texts = _tokens(instance / "keys", vouchers, 2 * phases * count)  # all distinct
        product_url, plain_url = "/api/v1/merchant/redemptions", "/pay"
        results: dict[tuple[str, int], tuple[Phase, float, float]] = {}
        with (
            gunicorn(url, instance, workers, threads) as port,
            gunicorn(url, instance, workers, threads, "bench.plain_app:create_app()") as plain,
        ):
            cookie, csrf = _login(port, str(seeded["cashier"]))
            plain_cookie = _plain_login(plain)
            used = [0]

            def payer(path: str, cookie: str, csrf: str, offset: int) -> Callable[..., bool]:
                def pay(conn: http.client.HTTPConnection, i: int) -> bool:
                    body = json.dumps(
                        {
                            "token": texts[offset + i],
                            "amount_cents": AMOUNT,
                            "idempotency_key": uuid.uuid4().hex,
                        }
                    )
                    headers = {"Content-Type": "application/json", "Cookie": cookie}
                    headers |= {"X-CSRFToken": csrf, "Accept": "application/json"}
                    conn.request("POST", path, body=body, headers=headers)
                    r = conn.getresponse()
                    r.read()
                    return r.status == 201

                return pay

            for n in clients:
                for app, p, path, ck, cs in (
                    ("plain", plain, plain_url, plain_cookie, ""),
                    ("kindpakket", port, product_url, cookie, csrf),
                ):
                    before = _hold_buckets(port)
                    done = _load(p, n, count, seconds, payer(path, ck, cs, used[0]))
                    used[0] += count
                    after = _hold_buckets(port)
                    results[(app, n)] = (
                        done,
                        _hold_pct(before, after, 50),
                        _hold_pct(before, after, 99),
                    )
        print(f"\n{kind}: gunicorn gthread {workers}x{threads}, keep-alive clients")
        startup = ", ".join(f"{a.split(':')[0]} {s:.1f} s" for a, s in STARTUP.items())
        row("start to first answer", startup, "aim <= 5 s")
        for n in clients:
            plain_phase = results[("plain", n)][0]
            paid, hold50, hold99 = results[("kindpakket", n)]
            for label, phase in (
                (f"plain app, {n} clients", plain_phase),
                (f"kindpakket, {n} clients", paid),
            ):
                row(
                    label,
                    f"{phase.rate:8.1f} pay/s",
                    f"p50 {phase.pct(50):6.1f} ms  p99 {phase.pct(99):6.1f} ms  "
                    f"n={phase.done} failed={phase.failures}",
                )
            ratio = paid.rate / plain_phase.rate if plain_phase.rate else 0
            p99_aim = 150 if n <= 16 else 1.5 * plain_phase.pct(99)
            met = ratio >= 0.9 and paid.pct(99) <= p99_aim
            row(
                f"kindpakket / plain, {n} clients",
                f"{100 * ratio:8.1f} %",
                f"aim >= 90 %, p99 <= {p99_aim:.0f} ms: " + ("met" if met else "NOT met"),
            )
            row(
                f"chain lock held per payment, {n} clients",
                f"p50 <= {hold50:.1f} ms",
                f"p99 <= {hold99:.1f} ms",
            )
        if len(clients) > 1:
            lo, hi = results[("kindpakket", clients[0])][0], results[("kindpakket", clients[-1])][0]
            row(
                f"kindpakket {clients[-1]} / {clients[0]} clients",
                f"{100 * hi.rate / lo.rate:8.1f} %",
                "aim: does not fall (>= 100 %, within noise)",
            )
        good = sum(r[0].done - r[0].failures for (a, _), r in results.items() if a == "kindpakket")
        plain_good = sum(r[0].done - r[0].failures for (a, _), r in results.items() if a == "plain")
        _check_ledger(engine, good, plain_good)


def _plain_login(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("POST", "/login")
    r = conn.getresponse()
    r.read()
    return _cookie(r.getheader("Set-Cookie"))


def _check_ledger(engine: Engine, expected: int, plain: int) -> None:
    """Check every answered payment against the ledger: entry, hash and receipt."""
    from sqlalchemy import text

    from ledger import store

    with Session(engine) as s:
        rows = s.execute(
            text(
                "SELECT r.ledger_seq, r.entry_hash, r.receipt_number, e.hash, e.kind"
                " FROM redemptions r LEFT JOIN ledger_entries e ON e.seq = r.ledger_seq"
            )
        ).all()
        bad = [r for r in rows if r[3] != r[1] or r[4] != "redemption" or r[2] != f"B-{r[0]:06d}"]
        ok = store.verify(s).ok
        stored_plain = s.execute(text("SELECT count(*) FROM plain_payments")).scalar_one()
    row(
        "payments answered 201 / redemptions / in ledger",
        f"{expected} / {len(rows)} / {len(rows) - len(bad)}",
        ("matches" if expected == len(rows) and not bad else "MISMATCH")
        + f"; ledger verifies: {ok}",
    )
    row("plain app: answered 201 / stored", f"{plain} / {stored_plain}")


def in_process(kind: str, count: int) -> None:
    """Time payments through ``app.test_client()`` beside /healthz; count SQL per payment."""
    from sqlalchemy import event

    with fresh_database(kind, name="kp_bench_pay") as engine, tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp)
        url = engine.url.render_as_string(hide_password=False)
        seeded = _seed(engine, instance / "keys")
        texts = _tokens(instance / "keys", seeded["vouchers"], 2 * count + 61)  # type: ignore[arg-type]
        app, client = cashier_client(url, instance, str(seeded["cashier"]))
        statements = [0]

        def counted(*_args: object) -> None:
            statements[0] += 1

        def pay(i: int) -> None:
            body = {"token": texts[i], "amount_cents": AMOUNT, "idempotency_key": uuid.uuid4().hex}
            answer = client.post("/api/v1/merchant/redemptions", json=body)
            if answer.status_code != 201:
                raise RuntimeError(answer.get_data(as_text=True))

        for i in range(30):  # warm up caches and the connection pool
            pay(i)
        plain = texts[-(count + 30) :]  # 30 to warm up, then as many as Kindpakket pays
        plain_ms = _plain_in_process(engine, instance, seeded["vouchers"], plain)  # type: ignore[arg-type]
        app_engine = app.extensions["kindpakket_db"][0]
        event.listen(app_engine, "before_cursor_execute", counted)
        pay(30)
        event.remove(app_engine, "before_cursor_execute", counted)
        start = time.perf_counter()
        for i in range(31, 31 + count):
            pay(i)
        paid = (time.perf_counter() - start) / count
        start = time.perf_counter()
        for _ in range(count):
            client.get("/healthz")
        health = (time.perf_counter() - start) / count
        app_engine.dispose()
    print(f"\n{kind}: in process (test client), {count} payments")
    row("ms per payment / per /healthz", f"{1000 * paid:.2f} / {1000 * health:.2f}")
    row("SQL statements per payment (SQLite BEGIN not counted)", str(statements[0]))
    row("healthz time / payment time", f"{100 * health / paid:8.1f} %")
    row("plain app ms per payment (same tokens)", f"{plain_ms:.2f}")
    row("plain / Kindpakket (in process)", f"{100 * plain_ms / (1000 * paid):8.1f} %")


def _plain_in_process(
    engine: Engine, instance: Path, vouchers: list[int], texts: list[str]
) -> float:
    """Return the plain app's milliseconds per payment through its test client."""
    client = plain_client(engine, instance, vouchers)

    def pay(text: str) -> None:
        body = {"token": text, "amount_cents": AMOUNT, "idempotency_key": uuid.uuid4().hex}
        answer = client.post("/pay", json=body)
        if answer.status_code != 201:
            raise RuntimeError(answer.get_data(as_text=True))

    for text in texts[:30]:
        pay(text)
    start = time.perf_counter()
    for text in texts[30:]:
        pay(text)
    return 1000 * (time.perf_counter() - start) / max(1, len(texts) - 30)


def cashier_client(url: str, instance: Path, cashier: str) -> tuple[Any, Any]:
    """Return Kindpakket on ``url`` and a test client logged in as ``cashier`` (CSRF off)."""
    from kindpakket import create_app

    app = create_app(
        {"DATABASE_URL": url, "INSTANCE_DIR": str(instance), "SECRET_KEY": "bench-secret"}
    )
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    form = {"email": cashier, "password": fx.PASSWORD}
    if client.post("/merchant/login", data=form).status_code != 302:
        raise RuntimeError("login failed")
    return app, client


def plain_client(engine: Engine, instance: Path, vouchers: list[int]) -> Any:
    """Create the plain app's tables in ``engine`` and return its logged-in test client."""
    from bench import plain_app

    plain_app.create_tables(engine, vouchers, 30_000)
    env = {
        "KINDPAKKET_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "KINDPAKKET_INSTANCE_DIR": str(instance),
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        client = plain_app.create_app().test_client()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    client.post("/login")
    return client


def main() -> None:
    """Parse arguments and run the benchmark on each engine."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", default="16,64", help="client counts, comma-separated")
    parser.add_argument("--count", type=int, default=2000, help="requests per phase (bound)")
    parser.add_argument("--seconds", type=float, default=20, help="time per phase (bound)")
    parser.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 2))
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument(
        "--sqlite-workers", type=int, default=None, help="workers for SQLite (default --workers)"
    )
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--in-process", action="store_true", help="test client, no HTTP")
    args = parser.parse_args()
    kinds = ["sqlite"] + ([] if args.no_pg or not pg_available() else ["postgresql"])
    for kind in kinds:
        if args.in_process:
            in_process(kind, min(args.count, 1000))
            continue
        workers = args.sqlite_workers if kind == "sqlite" and args.sqlite_workers else args.workers
        clients = [int(c) for c in str(args.clients).split(",")]
        run(kind, clients, args.count, args.seconds, workers, args.threads)


if __name__ == "__main__":
    main()
