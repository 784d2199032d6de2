"""The app factory: the one place that knows every blueprint."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, render_template
from sqlalchemy.orm import Session

from kindpakket import auth, config, errors, i18n, security
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
    db.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    auth.init_app(app)
    api.init_app(app)
    errors.init_app(app)  # after the API, so our handlers win over flask-smorest's
    _register_blueprints(app)
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
    from kindpakket import ledger_api, public_api, receipts
    from merchant import api as merchant_api
    from merchant import views as merchant_views
    from wallet import api as wallet_api
    from wallet import views as wallet_views

    for module in (public_api, ledger_api, wallet_api, merchant_api, admin_api):
        api.register_blueprint(module.blp)
    app.register_blueprint(receipts.bp)
    for module in (wallet_views, merchant_views, admin_views):
        app.register_blueprint(module.bp)
        if hasattr(module, "init_app"):
            module.init_app(app)
    for blueprint in admin_views.feature_blueprints():
        app.register_blueprint(blueprint)


def _checkpoint_when_due(session: Session) -> None:
    """Sign a checkpoint when this unit of work appended and N entries or M minutes are due."""
    from kindpakket.ledger_api import checkpoint_signer
    from ledger import proofs

    if not session.info.pop("ledger_appended", False):
        return
    cfg = current_app.config
    proofs.maybe_checkpoint(
        session,
        checkpoint_signer(),
        cfg["LEDGER_ORIGIN"],
        cfg["CHECKPOINT_EVERY_ENTRIES"],
        cfg["CHECKPOINT_EVERY_SECONDS"],
    )
