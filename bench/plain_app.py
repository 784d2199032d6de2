"""The baseline for ``bench_payments``: a plain voucher-payment app of the usual shape.

A small Flask app with what any voucher payment needs and nothing more: a signed-in
cashier (a Flask session cookie), the same Ed25519 token check as Kindpakket, a balance
column under a row lock, a payments table with UNIQUE(nonce), the same engine factory (so
the same durability: SQLite WAL with synchronous=FULL, PostgreSQL synchronous commit, the
same pool sizes) and one transaction per payment. No ledger, no hash chain, no audit.

    gunicorn -k gthread 'bench.plain_app:create_app()'   # env KINDPAKKET_DATABASE_URL, ...
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, abort, jsonify, request, session
from sqlalchemy import Engine, text

from kindpakket.db import make_engine
from kindpakket.errors import DomainError
from kindpakket.keys import Keyring
from wallet.payments import verify_token_text

TABLES = (
    "CREATE TABLE IF NOT EXISTS plain_vouchers (id INTEGER PRIMARY KEY, balance BIGINT NOT NULL"
    " CHECK (balance >= 0))",
    "CREATE TABLE IF NOT EXISTS plain_payments (id {serial} PRIMARY KEY, voucher_id INTEGER"
    " NOT NULL REFERENCES plain_vouchers (id), amount BIGINT NOT NULL, nonce VARCHAR(24)"
    " NOT NULL UNIQUE, idempotency_key VARCHAR(80) NOT NULL, created_at VARCHAR(40) NOT NULL)",
)


def create_tables(engine: Engine, vouchers: list[int], balance: int) -> None:
    """Create the two tables and fund ``vouchers`` with ``balance`` cents each."""
    serial = "SERIAL" if engine.dialect.name == "postgresql" else "INTEGER"
    with engine.begin() as conn:
        for ddl in TABLES:
            conn.execute(text(ddl.format(serial=serial)))
        conn.execute(
            text("INSERT INTO plain_vouchers (id, balance) VALUES (:id, :b)"),
            [{"id": v, "b": balance} for v in vouchers],
        )


def create_app() -> Flask:
    """Return the baseline app (configured from the same variables as Kindpakket)."""
    app = Flask(__name__)
    app.secret_key = os.environ.get("KINDPAKKET_SECRET_KEY", "bench-secret")
    engine = make_engine(os.environ["KINDPAKKET_DATABASE_URL"])
    ring = Keyring(Path(os.environ["KINDPAKKET_INSTANCE_DIR"]) / "keys")
    pg = engine.dialect.name == "postgresql"
    lock = " FOR UPDATE" if pg else ""  # SQLite: BEGIN IMMEDIATE already holds the lock

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/login")
    def login() -> dict[str, str]:
        session["cashier"] = 1
        return {"status": "ok"}

    @app.post("/pay")
    def pay() -> Any:
        if session.get("cashier") != 1:
            abort(403)
        data = request.get_json()
        amount = int(data["amount_cents"])
        try:
            token = verify_token_text(data["token"], now=datetime.now(UTC), keyring=ring)
        except DomainError as err:
            return jsonify(error=err.code), 400
        with engine.begin() as conn:
            balance = conn.execute(
                text(f"SELECT balance FROM plain_vouchers WHERE id = :id{lock}"),
                {"id": token.voucher_id},
            ).scalar()
            if balance is None or balance < amount:
                return jsonify(error="insufficient_balance"), 409
            conn.execute(
                text("UPDATE plain_vouchers SET balance = balance - :a WHERE id = :id"),
                {"a": amount, "id": token.voucher_id},
            )
            new_id = conn.execute(
                text(
                    "INSERT INTO plain_payments (voucher_id, amount, nonce, idempotency_key,"
                    " created_at) VALUES (:v, :a, :n, :k, :t) RETURNING id"
                ),
                {
                    "v": token.voucher_id,
                    "a": amount,
                    "n": token.nonce_hex,
                    "k": data["idempotency_key"],
                    "t": datetime.now(UTC).isoformat(),
                },
            ).scalar_one()
        return jsonify(id=new_id, balance_cents=balance - amount), 201

    return app
