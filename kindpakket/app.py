"""The app factory: the one place that knows every blueprint."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, render_template
from sqlalchemy import select
from sqlalchemy.orm import Session

from kindpakket import (
    auth,
    config,
    errors,
    health,
    i18n,
    inputs,
    logs,
    metrics,
    openapi,
    security,
    worker,
)
from kindpakket import time as clock
from kindpakket.api import api
from kindpakket.db import db


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Create and configure the app; ``overrides`` win over the environment (tests)."""
    settings = config.load(overrides)
    app = Flask("kindpakket", instance_path=settings["INSTANCE_DIR"])
    app.config.update(settings)
    app.config.update(
        API_TITLE="Kindpakket API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        JSON_SORT_KEYS=False,
        MAX_CONTENT_LENGTH=32 * 1024 * 1024,  # CSV uploads
    )
    logs.init_app(app)  # first: the request id exists before any other hook runs
    inputs.init_app(app)  # then bounded ids in every route, input checked before all else
    db.init_app(app)
    i18n.init_app(app)
    clock.init_app(app)
    security.init_app(app)
    auth.init_app(app)
    api.init_app(app, spec_kwargs=openapi.init_app(app))
    errors.init_app(app)  # after the API, so our handlers win over flask-smorest's
    _register_blueprints(app)
    health.init_app(app)
    health.register_check("worker_heartbeat", worker.heartbeat_problem)  # off unless expected
    metrics.init_app(app)
    db.before_commit(_roll_up_bulk)
    db.before_commit(_checkpoint_when_due)

    @app.get("/")
    def home() -> str:
        """Show the three doors: family, shop, municipality."""
        return render_template("home.html")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """Answer a load balancer's health check."""
        return {"status": "ok"}

    return app


def _register_blueprints(app: Flask) -> None:
    from admin import api as admin_api
    from admin import views as admin_views
    from admin.parties import municipality_party
    from kindpakket import ledger_api, notify_views, public_api, receipts, witness_api
    from merchant import api as merchant_api
    from merchant import views as merchant_views
    from merchant.parties import shop_party
    from wallet import api as wallet_api
    from wallet import views as wallet_views
    from wallet.parties import family_party

    for module in (public_api, ledger_api, witness_api, wallet_api, merchant_api, admin_api):
        api.register_blueprint(module.blp)
    app.register_blueprint(receipts.bp)
    app.register_blueprint(notify_views.bp)
    receipts.init_parties(app, (family_party, shop_party, municipality_party))
    from wallet import views_email

    app.register_blueprint(views_email.bp)
    for module in (wallet_views, merchant_views, admin_views):
        app.register_blueprint(module.bp)
        if hasattr(module, "init_app"):
            module.init_app(app)
    for blueprint in admin_views.feature_blueprints():
        app.register_blueprint(blueprint)
    from wallet import views_passes as wallet_passes

    app.register_blueprint(wallet_passes.bp)


_COVERED = "kindpakket_checkpoint_covered"
BULK_ROLLUP_ENTRIES = 1_000  # a unit of work appending this many refreshes the report rollup


def _roll_up_bulk(session: Session) -> None:
    """Refresh the report rollup in a unit of work that made a bulk load (import, issuance).

    So the first report after it does not sum the whole load from the ledger. Payments
    append one entry and skip this: their chain lock is not lengthened.
    """
    from admin.reports import rollup

    if session.info.pop("ledger_appended_entries", 0) >= BULK_ROLLUP_ENTRIES:
        rollup.refresh(session)


def _checkpoint_when_due(session: Session) -> None:
    """Sign a checkpoint when this unit of work appended and N entries or M minutes are due.

    What the latest checkpoint covers is remembered per app, so most appends cost one query
    (the tree size) instead of three. The memory can only be behind the database
    (checkpoints only grow), which makes it say "due" too early, never too late; when it
    says "due", the ledger decides from the database and the memory is read again.
    """
    from kindpakket.ledger_api import checkpoint_signer
    from ledger import proofs

    if not session.info.pop("ledger_appended", False):
        return
    cfg = current_app.config
    every_entries, every_seconds = cfg["CHECKPOINT_EVERY_ENTRIES"], cfg["CHECKPOINT_EVERY_SECONDS"]
    now = datetime.now(UTC)
    # The append noted the head it wrote: no query while the chain lock is held.
    size = session.info.pop("ledger_size", None) or proofs.tree_size(session)
    covered = current_app.extensions.get(_COVERED) or _read_covered(session)
    if covered is not None:
        current_app.extensions[_COVERED] = covered
        if not _due(covered, size, every_entries, every_seconds, now):
            return
    current_app.extensions.pop(_COVERED, None)  # read again after this unit of work
    proofs.maybe_checkpoint(
        session, checkpoint_signer(), cfg["LEDGER_ORIGIN"], every_entries, every_seconds, now=now
    )


def _read_covered(session: Session) -> tuple[int, datetime] | None:
    """Return (size covered by the latest checkpoint, time its uncovered entries count from)."""
    from ledger import proofs
    from ledger.models import LedgerEntry

    latest = proofs.latest_checkpoint(session)
    if latest is not None:
        return latest.size, latest.created_at
    first = session.execute(select(LedgerEntry.created_at).where(LedgerEntry.seq == 1)).scalar()
    return None if first is None else (0, first)


def _due(
    covered: tuple[int, datetime], size: int, every_entries: int, every_seconds: int, now: datetime
) -> bool:
    """Return True when a checkpoint may be due (``ledger.proofs.maybe_checkpoint`` decides)."""
    done, since = covered
    if size <= done:
        return False
    if every_entries > 0 and size - done >= every_entries:
        return True
    return every_seconds > 0 and (now - since).total_seconds() >= every_seconds
