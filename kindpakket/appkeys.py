"""The running app's keyring (kept apart so that :mod:`kindpakket.keys` stays free of Flask)."""

from __future__ import annotations

from pathlib import Path

from flask import current_app

from kindpakket.keys import Keyring


def app_keyring() -> Keyring:
    """Return the current app's keyring (one per app; keys.json is re-read when it changes)."""
    ring = current_app.extensions.get("kindpakket_keyring")
    if ring is None:
        ring = Keyring(Path(current_app.config["KEY_DIR"]))
        current_app.extensions["kindpakket_keyring"] = ring
    return ring  # type: ignore[no-any-return]
