"""``kindpakket doctor`` flags a bad configuration in plain words and exits 1."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.merchant.conftest import keyring

__all__ = ["keyring"]


@pytest.fixture
def good(app_config: dict[str, Any]) -> dict[str, Any]:
    """A production configuration the doctor accepts."""
    return {
        **app_config,
        "SECRET_KEY": "9f" * 32,
        "BASE_URL": "https://kindpakket.voorbeeld.nl",
        "SESSION_COOKIE_SECURE": True,
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
        "METRICS_TOKEN": "m" * 32,
        "LEDGER_ORIGIN": "kindpakket.voorbeeld.nl/ledger",
    }


def _doctor(config: dict[str, Any], *args: str) -> Any:
    from flask.cli import ScriptInfo

    from kindpakket import create_app
    from kindpakket.cli import main

    app = create_app(config)
    try:
        runner = app.test_cli_runner()
        return runner.invoke(main, ["doctor", *args], obj=ScriptInfo(create_app=lambda: app))
    finally:
        app.extensions["kindpakket_db"][0].dispose()


def test_a_good_configuration_passes(good: dict[str, Any], keyring: Any) -> None:
    result = _doctor(good)
    assert result.exit_code == 0, result.output
    assert "OK: no problems found" in result.output


def test_a_bad_configuration_is_named_problem_by_problem(
    good: dict[str, Any], keyring: Any, tmp_path: Any
) -> None:
    info = keyring.list()[0]
    os.chmod(keyring.directory / info.filename, 0o644)
    bad = {
        **good,
        "SECRET_KEY": "changeme",
        "SESSION_COOKIE_SECURE": False,
        "BASE_URL": "http://kindpakket.voorbeeld.nl",
    }
    result = _doctor(bad)
    assert result.exit_code == 1
    out = result.output
    assert "SECRET_KEY is a known default or shorter than 32 characters" in out
    assert "SESSION_COOKIE_SECURE is off" in out
    assert "is not https" in out
    assert "chmod 0600" in out
    assert "4 problem(s) found" in out


def test_an_unreachable_or_unmigrated_database_is_a_problem(
    good: dict[str, Any], tmp_path: Any
) -> None:
    empty = _doctor({**good, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"})
    assert empty.exit_code == 1 and "run `kindpakket db upgrade`" in empty.output
    gone = _doctor({**good, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    assert gone.exit_code == 1 and "the database cannot be reached" in gone.output


def test_settings_table_lists_every_setting(good: dict[str, Any]) -> None:
    from kindpakket import config

    table = _doctor(good, "--settings").output
    for name in config.DEFAULTS:
        assert f"`KINDPAKKET_{name}`" in table
