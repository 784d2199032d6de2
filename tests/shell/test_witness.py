"""Witnesses: ``kindpakket witness`` following a real ledger over loopback HTTP, and the
ledger collecting and serving their cosignatures."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.cli import ScriptInfo
from sqlalchemy import text
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from kindpakket import create_app
from kindpakket.cli import main
from kindpakket.ledger_api import checkpoint_signer
from ledger import checkpoint as ckpt
from ledger import store
from ledger import witness as wit
from tests.ledger.test_proofs import grow

W_NAME = "auditor.gemeente.test/witness"


@contextmanager
def live_server(app: Flask) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 (threaded, keep-alive) and yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def no_app() -> Flask:
    raise AssertionError("the witness must not load the app (nor its database)")


def witness(*args: str) -> Result:
    """Run ``kindpakket witness ...`` as its own operator would: no app, no database."""
    return CliRunner().invoke(main, ["witness", *args], obj=ScriptInfo(create_app=no_app))


def run_once(url: str, state: Path) -> Result:
    return witness("run", "--once", "--url", url, "--state", str(state))


def log_vkeys(app: Flask) -> list[str]:
    keys = app.test_client().get("/api/v1/keys").get_json()["keys"]
    return [k["vkey"] for k in keys if k["purpose"] == "checkpoint"]


def make_app(config: dict[str, Any], **more: Any) -> Flask:
    return create_app({**config, **more})


def checkpoint(app: Flask) -> str:
    """Sign a checkpoint of the app's whole ledger (``kindpakket ledger checkpoint``)."""
    out = app.test_cli_runner().invoke(
        main, ["ledger", "checkpoint"], obj=ScriptInfo(create_app=lambda: app)
    )
    assert out.exit_code == 0, out.output
    return out.output


def engine_of(app: Flask) -> Any:
    return app.extensions["kindpakket_db"][0]


@pytest.fixture
def setup(app_config: dict[str, Any], tmp_path: Path) -> Iterator[tuple[Flask, Path, str]]:
    """Return (ledger app trusting a new witness, the witness's state file, its vkey)."""
    first = make_app(app_config)
    with first.app_context():
        checkpoint_signer()  # the log's first checkpoint key, which the witness is told
    state = tmp_path / "witness.json"
    args = ["init", "--state", str(state), "--name", W_NAME, "--origin"]
    made = witness(*args, first.config["LEDGER_ORIGIN"], *_log_key_args(first))
    engine_of(first).dispose()
    assert made.exit_code == 0, made.output
    vkey = made.stdout.strip().splitlines()[0]
    app = make_app(app_config, WITNESS_VKEYS=vkey)
    yield app, state, vkey
    engine_of(app).dispose()


def _log_key_args(app: Flask) -> list[str]:
    return [arg for v in log_vkeys(app) for arg in ("--log-vkey", v)]


def note_at(app: Flask, size: int | str = "latest") -> str:
    answer = app.test_client().get(f"/api/v1/ledger/checkpoints/{size}")
    assert answer.status_code == 200, answer.get_json()
    return str(answer.get_json()["note"])


def cosigners(note: str, vkey: str) -> list[str]:
    return [k.name for k, _ in wit.cosigners_of(note, [wit.parse_cosigner_vkey(vkey)])]


def test_witness_cosigns_successive_checkpoints_and_the_ledger_serves_them(
    setup: tuple[Flask, Path, str],
) -> None:
    app, state, vkey = setup
    with Session(engine_of(app)) as session:
        grow(session, 5)
    checkpoint(app)
    verify = app.test_cli_runner().invoke(
        main, ["ledger", "verify"], obj=ScriptInfo(create_app=lambda: app)
    )
    assert verify.exit_code == 0 and "WARNING: no witness co-signed" in verify.stderr
    with live_server(app) as url:
        first = run_once(url, state)
        assert first.exit_code == 0, first.output
        assert "co-signed checkpoint 5" in first.output
        assert "unchanged" in run_once(url, state).output
        with Session(engine_of(app)) as session:
            grow(session, 6, first=False)
        checkpoint(app)
        second = run_once(url, state)
        assert second.exit_code == 0 and "co-signed checkpoint 11" in second.output
    latest = note_at(app)
    assert ckpt.verify_checkpoint(latest, log_vkeys(app), app.config["LEDGER_ORIGIN"]).size == 11
    assert cosigners(latest, vkey) == [W_NAME] == cosigners(note_at(app, 5), vkey)
    listed = app.test_client().get("/api/v1/ledger/witnesses").get_json()
    assert listed["vkeys"] == [vkey] and listed["size"] == 11
    assert [c["witness"] for c in listed["cosignatures"]] == [W_NAME]
    verify = app.test_cli_runner().invoke(
        main, ["ledger", "verify"], obj=ScriptInfo(create_app=lambda: app)
    )
    assert verify.exit_code == 0, verify.output
    assert f"witness {W_NAME} co-signed checkpoint 11" in verify.stdout
    assert "WARNING" not in verify.stderr
    saved = json.loads(state.read_text())
    assert (saved["size"], saved["published_size"], saved["alarm"]) == (11, 11, None)
    assert state.stat().st_mode & 0o077 == 0  # holds the private key


@contextmanager
def evil_twin(
    app: Flask, app_config: dict[str, Any], tmp_path: Path, sqlite_template: Path, size: int
) -> Iterator[Flask]:
    """A second ledger with the same signing key and origin but other entries (SQLite)."""
    instance = tmp_path / "twin"
    shutil.copytree(Path(app.config["KEY_DIR"]), instance / "keys")
    shutil.copyfile(sqlite_template, tmp_path / "twin.db")
    twin = make_app(
        app_config, DATABASE_URL=f"sqlite:///{tmp_path / 'twin.db'}", INSTANCE_DIR=str(instance)
    )
    assert log_vkeys(twin) == log_vkeys(app)
    with Session(engine_of(twin)) as session:
        for name in ("bank:1", "fund:1", "merchant:1:payable"):
            store.open_account(session, name)
        for i in range(size):  # amounts the honest ledger never had
            store.append(session, "fund.deposit", [("bank:1", -(i + 77)), ("fund:1", i + 77)])
        session.commit()
    checkpoint(twin)
    try:
        yield twin
    finally:
        engine_of(twin).dispose()


@pytest.mark.parametrize(
    ("twin_size", "code"), [(5, "split_view"), (8, "inconsistent"), (3, "rollback")]
)
def test_split_views_forks_and_rollbacks_are_refused_and_reported(
    setup: tuple[Flask, Path, str],
    app_config: dict[str, Any],
    tmp_path: Path,
    sqlite_template: Path,
    twin_size: int,
    code: str,
) -> None:
    app, state, vkey = setup
    with Session(engine_of(app)) as session:
        grow(session, 5)
    checkpoint(app)
    with live_server(app) as url:
        assert run_once(url, state).exit_code == 0
    with evil_twin(app, app_config, tmp_path, sqlite_template, twin_size) as twin:
        offered = note_at(twin)
        with live_server(twin) as twin_url:
            caught = run_once(twin_url, state)
        assert caught.exit_code == 3, caught.output
        assert f"ALARM: the ledger misbehaved: {code}" in caught.stderr
        assert cosigners(note_at(twin), vkey) == []  # nothing was handed to the twin
    alarm = json.loads(state.read_text())["alarm"]
    assert alarm["code"] == code and alarm["offered_note"] == offered
    assert ckpt.verify_checkpoint(alarm["cosigned_note"], log_vkeys(app)).size == 5
    # The witness co-signs nothing more, even for the honest ledger, until someone looks.
    with Session(engine_of(app)) as session:
        grow(session, 4, first=False)
    checkpoint(app)
    with live_server(app) as url:
        after = run_once(url, state)
    assert after.exit_code == 3 and "ALARM" in after.stderr
    assert cosigners(note_at(app), vkey) == []
    assert witness("status", "--state", str(state)).exit_code == 3


def test_a_checkpoint_not_signed_by_the_log_is_refused_without_an_alarm(
    setup: tuple[Flask, Path, str], app_config: dict[str, Any], tmp_path: Path
) -> None:
    app, state, _ = setup
    other = make_app(app_config, INSTANCE_DIR=str(tmp_path / "other"))  # another signing key
    with Session(engine_of(app)) as session:
        grow(session, 3)
    checkpoint(other)
    with live_server(other) as url:
        refused = run_once(url, state)
    engine_of(other).dispose()
    assert refused.exit_code == 1 and "bad_checkpoint" in refused.stderr
    assert json.loads(state.read_text())["alarm"] is None
    assert run_once("http://127.0.0.1:9", state).exit_code == 1  # nobody listens there


def post(client: Any, size: int, line: str, **query: str) -> Any:
    return client.post(
        "/api/v1/ledger/cosignatures", json={"size": size, "cosignature": line}, query_string=query
    )


def test_endpoint_takes_trusted_cosignatures_and_refuses_the_rest(
    app_config: dict[str, Any],
) -> None:
    import nacl.signing

    trusted, stranger = (nacl.signing.SigningKey(bytes([n]) * 32) for n in (1, 2))
    vkey = wit.cosigner_vkey(W_NAME, bytes(trusted.verify_key))
    # CSRF on: the endpoint is signed by the witness, not by a browser session.
    app = make_app(app_config, WITNESS_VKEYS=[vkey], WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with Session(engine_of(app)) as session:
        grow(session, 4)
    checkpoint(app)
    body = ckpt.split_note(note_at(app, 4))[0]
    now = int(time.time())

    def refused(size: int, line: str, status: int) -> str:
        answer = post(client, size, line)
        assert answer.status_code == status, answer.get_json()
        return str(answer.get_json()["error"]["code"])

    good = wit.cosign(body, W_NAME, trusted, now)
    assert refused(4, wit.cosign(body, W_NAME, stranger, now).line(), 403) == "unknown_witness"
    forged = wit.Cosignature(good.name, good.key_id, now - 1, good.signature).line()
    assert refused(4, forged, 403) == "bad_signature"
    other_body = body.replace("\n4\n", "\n3\n")
    assert refused(4, wit.cosign(other_body, W_NAME, trusted, now).line(), 403) == "bad_signature"
    assert refused(9, good.line(), 404) == "no_checkpoint"
    assert refused(4, "— nonsense", 400) == "bad_format"
    assert refused(4, wit.cosign(body, W_NAME, trusted, now + 3600).line(), 400) == (
        "future_timestamp"
    )
    assert post(client, -1, good.line()).get_json()["error"]["code"] == "invalid_input"
    dutch = post(client, 4, wit.cosign(body, W_NAME, stranger, now).line(), lang="nl")
    assert dutch.get_json()["error"]["message"] == "Deze getuigesleutel wordt hier niet vertrouwd."
    assert note_at(app, 4).count("\n— ") == 1  # the log's own: nothing refused was kept
    stored = post(client, 4, good.line())
    assert stored.status_code == 200 and stored.get_json()["created"] is True
    again = post(client, 4, wit.cosign(body, W_NAME, trusted, now + 1).line())
    assert again.get_json()["created"] is False
    assert again.get_json()["signed_at"] == now  # the first one is kept
    assert note_at(app, 4).endswith(good.line() + "\n")
    # A database owner swapping in a forged cosignature is caught by `ledger verify`.
    with engine_of(app).begin() as conn:
        conn.execute(text("UPDATE ledger_cosignatures SET line = :l"), {"l": forged})
    verify = app.test_cli_runner().invoke(
        main, ["ledger", "verify"], obj=ScriptInfo(create_app=lambda: app)
    )
    assert verify.exit_code == 1 and f"cosignature by {W_NAME} of size 4" in verify.stderr
    engine_of(app).dispose()


def test_a_bad_witness_key_in_the_settings_stops_the_app(app_config: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="WITNESS_VKEYS"):
        create_app({**app_config, "WITNESS_VKEYS": "auditor+00000000+AAAA"})
