"""``kindpakket doctor``: check a configuration and say what is wrong in plain words.

Exit 1 when a problem is found; warnings alone exit 0. ``--settings`` prints the table of
every setting (name, default) that docs/deploy.md shows.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import text

from kindpakket import config

WEAK_SECRETS = {"dev", "secret", "changeme", "test-secret", "kindpakket"}


def findings(cfg: dict[str, Any], engine: Any) -> list[tuple[str, str]]:
    """Return ``(level, message)`` pairs: level is ``problem`` or ``warning``."""
    out: list[tuple[str, str]] = []
    production = cfg["DATABASE_URL"].startswith("postgresql") or not cfg["BASE_URL"].startswith(
        "http://127.0.0.1"
    )
    secret = str(cfg.get("SECRET_KEY") or "")
    if secret.lower() in WEAK_SECRETS or len(secret) < 32:
        out.append(("problem", "SECRET_KEY is a known default or shorter than 32 characters: "
                    "set KINDPAKKET_SECRET_KEY to 64 random hex characters "
                    "(python -c 'import secrets; print(secrets.token_hex(32))')"))  # fmt: skip
    out += _database(engine)
    out += _keys(Path(cfg["KEY_DIR"]))
    if production and not cfg.get("SESSION_COOKIE_SECURE"):
        out.append(("problem", "SESSION_COOKIE_SECURE is off: login cookies would travel over "
                    "plain HTTP; set KINDPAKKET_SESSION_COOKIE_SECURE=1 behind TLS"))  # fmt: skip
    if production and not cfg["BASE_URL"].startswith("https://"):
        out.append(("problem", f"BASE_URL {cfg['BASE_URL']} is not https: activation letters "
                    "would send families to an unprotected address"))  # fmt: skip
    if production and cfg.get("RATELIMIT_STORAGE_URI") == "memory://":
        out.append(("warning", "RATELIMIT_STORAGE_URI is memory://: every worker counts its own "
                    "login attempts; use redis://… when more than one process serves"))  # fmt: skip
    if not cfg.get("METRICS_TOKEN"):
        out.append(("warning", "METRICS_TOKEN is not set: /metrics is switched off"))
    elif len(str(cfg["METRICS_TOKEN"])) < 24:
        out.append(("problem", "METRICS_TOKEN is shorter than 24 characters"))
    if cfg["LEDGER_ORIGIN"] == config.DEFAULTS["LEDGER_ORIGIN"][0]:
        out.append(("warning", "LEDGER_ORIGIN is the example origin: set it to your own "
                    "host and path before the first checkpoint is signed"))  # fmt: skip
    return out


def _database(engine: Any) -> list[tuple[str, str]]:
    from kindpakket.migrate import current, heads

    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return [("problem", f"the database cannot be reached: {first}")]
    have, want = current(engine), heads()
    if have != want:
        return [("problem", f"the database schema is at {sorted(have) or 'nothing'}, the code "
                 f"needs {sorted(want)}: run `kindpakket db upgrade`")]  # fmt: skip
    return []


def _keys(key_dir: Path) -> list[tuple[str, str]]:
    from kindpakket.keys import Keyring, KeyringError

    if not key_dir.exists():
        return [("warning", f"no key directory {key_dir} yet: keys are made on first use")]
    out: list[tuple[str, str]] = []
    mode = stat.S_IMODE(os.stat(key_dir).st_mode)
    if mode & 0o077:
        out.append(("problem", f"key directory {key_dir} is open to others (mode {mode:o}): "
                    f"chmod 700 {key_dir}"))  # fmt: skip
    ring = Keyring(key_dir)
    try:
        for purpose in ("token", "checkpoint"):
            if not ring.active(purpose):
                out.append(("warning", f"no {purpose} signing key yet: made on first use"))
            else:
                ring.signing_key(purpose)
    except KeyringError as exc:
        out.append(("problem", f"signing key: {exc}"))  # the doctor speaks English
    return out


def settings_table() -> str:
    """Return every setting as a Markdown table: variable, default."""
    lines = ["| variable | default |", "|---|---|"]
    for name, (default, _parse) in config.DEFAULTS.items():
        shown = "(see below)" if default is None else f"`{default}`"
        lines.append(f"| `{config.PREFIX}{name}` | {shown} |")
    return "\n".join(lines)


@click.command("doctor")
@click.option("--settings", is_flag=True, help="Print the table of all settings and stop.")
@with_appcontext
def doctor_command(settings: bool) -> None:
    """Check this configuration; say what is wrong in plain words; exit 1 on problems."""
    if settings:
        click.echo(settings_table())
        return
    from kindpakket.db import db

    found = findings(dict(current_app.config), db.engine)
    for level, message in found:
        click.echo(f"{'PROBLEM' if level == 'problem' else 'warning'}: {message}")
    problems = sum(1 for level, _ in found if level == "problem")
    if problems:
        click.echo(f"{problems} problem(s) found", err=True)
        sys.exit(1)
    click.echo("OK: no problems found")
