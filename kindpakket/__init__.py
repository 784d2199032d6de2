"""Kindpakket web shell: the app factory lives in :mod:`kindpakket.app`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Create the Flask app; ``config`` overrides environment settings (tests)."""
    from kindpakket.app import create_app as _create

    return _create(config)
