"""Settings from environment variables prefixed ``KINDPAKKET_``, with a test override."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

PREFIX = "KINDPAKKET_"

# name -> (default, parser). Every one can be set as KINDPAKKET_<NAME>.
DEFAULTS: dict[str, tuple[Any, Any]] = {
    "DATABASE_URL": (None, str),  # default: sqlite:///<instance>/kindpakket.db
    "SECRET_KEY": (None, str),  # default: generated once into <instance>/secret_key
    "INSTANCE_DIR": ("instance", str),
    "KEY_DIR": (None, str),  # default: <instance>/keys
    "BASE_URL": ("http://127.0.0.1:5000", str),  # used in activation letters
    "LEDGER_ORIGIN": ("kindpakket.example/ledger", str),  # checkpoint origin line
    "CHECKPOINT_EVERY_ENTRIES": (1000, int),
    "CHECKPOINT_EVERY_SECONDS": (600, int),
    "TOKEN_TTL_SECONDS": (120, int),
    "TOKEN_CLOCK_SKEW_SECONDS": (5, int),
    "RATELIMIT_STORAGE_URI": ("memory://", str),  # redis://127.0.0.1:6379 with >1 worker
    "RATELIMIT_KEY_PREFIX": ("kindpakket", str),  # keeps apps sharing one Redis apart
    # Reverse proxies in front of the app that set X-Forwarded-For/-Proto/-Host (0 = none).
    # Set it to exactly the number of hops: more lets clients choose their own address.
    "TRUSTED_PROXIES": (0, int),
    "RATELIMIT_ENABLED": (True, lambda v: str(v).lower() not in {"0", "false", "no"}),
    "SESSION_COOKIE_SECURE": (False, lambda v: str(v).lower() in {"1", "true", "yes"}),
    "PIN_MAX_ATTEMPTS": (5, int),
    "PIN_LOCKOUT_SECONDS": (900, int),
    "STAFF_MAX_ATTEMPTS": (5, int),  # wrong logins before a staff account locks
    "STAFF_LOCKOUT_SECONDS": (900, int),  # first lockout; doubles while failures go on
    "MUNICIPALITY_NAME": ("Gemeente Voorbeeld", str),
    # Trusted witnesses: their cosignature vkeys, separated by commas or spaces.
    "WITNESS_VKEYS": ((), lambda v: v),
    # operations (docs/deploy.md)
    "LOG_FORMAT": ("json", str),  # json (one object per line) or plain (Python's default)
    "LOG_LEVEL": ("INFO", str),
    "REQUEST_ID_FROM_PROXY": (False, lambda v: str(v).lower() in {"1", "true", "yes"}),
    "METRICS_TOKEN": (None, str),  # bearer token for /metrics; unset: /metrics answers 404
    # notifications (kindpakket/worker.py, README "Notifications")
    "SMTP_URL": (None, str),  # smtp://host:25, smtp+starttls://user:pw@host:587, smtps://...
    "MAIL_FROM": ("kindpakket@localhost", str),
    "OUTBOX_RETENTION_DAYS": (90, int),  # sent/failed rows (no bodies) are deleted after this
    "JOBS_HOUR": (7, int),  # daily reminders and digests run from this Amsterdam hour
    # /readyz fails without a recent worker heartbeat; default: on when SMTP_URL is set
    "WORKER_EXPECTED": (None, lambda v: str(v).lower() in {"1", "true", "yes"}),
    "WORKER_STALE_SECONDS": (120, int),
    "FUND_LOW_CENTS": (100_000, int),  # staff hear when a fund's unissued balance is below
}


def load(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the settings: defaults, then environment, then ``overrides`` (tests)."""
    settings: dict[str, Any] = {}
    for name, (default, parse) in DEFAULTS.items():
        raw = os.environ.get(PREFIX + name)
        settings[name] = parse(raw) if raw is not None else default
    settings.update(overrides or {})
    settings["WITNESS_VKEYS"] = witness_vkeys(settings["WITNESS_VKEYS"])
    instance = Path(settings["INSTANCE_DIR"]).resolve()
    settings["INSTANCE_DIR"] = str(instance)
    if not settings["DATABASE_URL"]:
        instance.mkdir(mode=0o700, parents=True, exist_ok=True)
        settings["DATABASE_URL"] = f"sqlite:///{instance / 'kindpakket.db'}"
    settings["DATABASE_URL"] = normalise_database_url(settings["DATABASE_URL"])
    if settings["WORKER_EXPECTED"] is None:
        settings["WORKER_EXPECTED"] = bool(settings["SMTP_URL"])
    if not settings["KEY_DIR"]:
        settings["KEY_DIR"] = str(instance / "keys")
    if not settings["SECRET_KEY"]:
        settings["SECRET_KEY"] = _instance_secret(instance)
    return settings


def witness_vkeys(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Return the witness vkeys of a setting, refusing any that does not parse."""
    from ledger.witness import WitnessError, parse_cosigner_vkey

    items = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    for item in items:
        try:
            parse_cosigner_vkey(item)
        except WitnessError as exc:
            raise ValueError(f"{PREFIX}WITNESS_VKEYS: {item!r}: {exc.message}") from None
    return tuple(items)


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for ``postgresql://`` URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _instance_secret(instance: Path) -> str:
    """Return the instance's secret key, creating it (mode 0600) on first use."""
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()
