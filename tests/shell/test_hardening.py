"""Behind a proxy, rate limits shared between workers, instance file modes, the scanner CSP."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kindpakket import create_app

IN_CI = os.environ.get("CI") == "true"
ROOT = Path(__file__).resolve().parents[2]


def family_login(client: Any, code: str, forwarded_for: str) -> int:
    response = client.post(
        "/wallet/login",
        data={"code": code, "pin": "27183"},
        headers={"X-Forwarded-For": forwarded_for},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},  # the TLS proxy
    )
    return int(response.status_code)


def unknown_code(i: int) -> str:
    return f"KP-AAAA-BBBB-CCCC-{'23456789ABCD'[i % 12]}{'23456789ABCD'[i // 12]}DD"


def test_behind_a_proxy_each_family_has_its_own_login_budget(
    app_config: dict[str, Any],
) -> None:
    app = create_app({**app_config, "TRUSTED_PROXIES": 1})
    try:
        client = app.test_client()
        mine = [family_login(client, unknown_code(i), "203.0.113.5") for i in range(11)]
        assert mine[:10] == [401] * 10 and mine[10] == 429  # this client is limited...
        other = family_login(client, unknown_code(20), "198.51.100.7")
        assert other == 401  # ...another family behind the same proxy is not
    finally:
        app.extensions["kindpakket_db"][0].dispose()


def test_without_trusted_proxies_a_forged_header_buys_no_new_budget(
    app_config: dict[str, Any],
) -> None:
    app = create_app(app_config)  # TRUSTED_PROXIES = 0: X-Forwarded-For is not believed
    try:
        client = app.test_client()
        answers = [family_login(client, unknown_code(i), f"192.0.2.{i}") for i in range(11)]
        assert answers[:10] == [401] * 10 and answers[10] == 429
    finally:
        app.extensions["kindpakket_db"][0].dispose()


def test_one_family_code_has_its_own_budget_across_addresses(
    app_config: dict[str, Any],
) -> None:
    app = create_app({**app_config, "TRUSTED_PROXIES": 1})
    try:
        client = app.test_client()
        code = unknown_code(0)
        answers = [family_login(client, code, f"192.0.2.{i}") for i in range(11)]
        assert answers[:10] == [401] * 10 and answers[10] == 429  # per account, too
    finally:
        app.extensions["kindpakket_db"][0].dispose()


def test_scanner_page_csp_allows_the_camera_but_no_webassembly(app: Any) -> None:
    from merchant.views import scan

    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == "merchant.scan")
    assert rule.rule == "/merchant/scan" and scan is app.view_functions["merchant.scan"]
    from sqlalchemy.orm import Session

    from tests import factories as fx

    with Session(app.extensions["kindpakket_db"][0]) as s:
        fx.shop(s)
        s.commit()
    client = app.test_client()
    logged = client.post(
        "/merchant/login", data={"email": "kassa@spaak.example", "password": fx.PASSWORD}
    )
    assert logged.status_code == 302
    page = client.get("/merchant/scan")
    assert page.status_code == 200
    csp = page.headers["Content-Security-Policy"]
    assert "wasm-unsafe-eval" not in csp and "unsafe-eval" not in csp
    assert "script-src 'self'" in csp and "camera=(self)" in page.headers["Permissions-Policy"]


def test_sqlite_database_and_secret_key_are_private(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    app = create_app({"INSTANCE_DIR": str(instance), "DATABASE_URL": None, "SECRET_KEY": None})
    try:
        from kindpakket.migrate import upgrade

        upgrade(app.extensions["kindpakket_db"][0])
    finally:
        app.extensions["kindpakket_db"][0].dispose()
    for name in ("kindpakket.db", "secret_key"):
        mode = stat.S_IMODE((instance / name).stat().st_mode)
        assert mode == 0o600, f"{name}: {oct(mode)}"
    assert stat.S_IMODE(instance.stat().st_mode) & 0o077 == 0


def test_an_existing_world_readable_database_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    path.write_bytes(b"")
    path.chmod(0o644)
    from kindpakket.db import make_engine

    make_engine(f"sqlite:///{path}").dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# -- rate limits shared by two worker processes through Redis ------------------------------------


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """Redis at 127.0.0.1:6379, or one started for these tests from Debian's redis-server."""
    if _port_open(6379):
        yield "redis://127.0.0.1:6379/0"
        return
    server = shutil.which("redis-server")
    if server is None:
        message = "Redis is not running at 127.0.0.1:6379 and redis-server is not installed"
        if IN_CI:
            pytest.fail(message + " (required in CI)")
        pytest.skip(message)
    port = _free_port()
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not _port_open(port):
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


SERVE = """
import sys
from werkzeug.serving import make_server
from kindpakket import create_app
app = create_app({"WTF_CSRF_ENABLED": False})
server = make_server("127.0.0.1", 0, app, threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
"""


@pytest.fixture
def two_workers(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[list[str]]:
    """Start two app processes on one database, sharing rate limits in Redis."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "KINDPAKKET_DATABASE_URL": database_url,
        "KINDPAKKET_INSTANCE_DIR": str(tmp_path / "instance"),
        "KINDPAKKET_SECRET_KEY": "shared-test-secret",
        "KINDPAKKET_RATELIMIT_STORAGE_URI": redis_url,
        "KINDPAKKET_RATELIMIT_KEY_PREFIX": f"kp-test-{uuid.uuid4().hex}",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SERVE], env=env, stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        for _ in range(2)
    ]
    try:
        urls = [f"http://127.0.0.1:{int(p.stdout.readline())}" for p in procs]  # type: ignore[union-attr]
        yield urls
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=10)


def _post(url: str, data: dict[str, str]) -> int:
    body = urllib.parse.urlencode(data).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=30) as r:  # noqa: S310
            return int(r.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def test_two_workers_sharing_redis_enforce_one_login_budget(two_workers: list[str]) -> None:
    answers = [
        _post(f"{two_workers[i % 2]}/wallet/login", {"code": unknown_code(i), "pin": "27183"})
        for i in range(11)
    ]
    assert answers[:10] == [401] * 10  # five failures on each worker...
    assert answers[10] == 429  # ...and the budget of ten is spent on both together
    assert _post(f"{two_workers[0]}/wallet/login", {"code": "x", "pin": "1"}) == 429
