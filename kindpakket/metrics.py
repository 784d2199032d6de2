"""Prometheus metrics at ``/metrics`` (factory side), behind a bearer token.

``/metrics`` answers 404 unless ``METRICS_TOKEN`` is set; then it wants
``Authorization: Bearer <METRICS_TOKEN>``. (Alternatively leave the token unset on the
public app and scrape a second gunicorn bound to localhost with the token set: see
docs/deploy.md.)

Several gunicorn worker processes each count on their own. Set the environment variable
``PROMETHEUS_MULTIPROC_DIR`` to an empty directory (wiped before gunicorn starts) and
prometheus_client's multiprocess mode adds up the counters of every worker; without it a
scrape sees only the worker that answered it.

Counters that other parts may increment later: ``LOGIN_FAILURES`` and ``LOCKOUTS``
(today they are counted from the answers of the login endpoints).
"""

from __future__ import annotations

import hmac
import os
import time
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

from kindpakket.db import db, read_only
from ledger import store

REQUESTS = Counter(
    "kindpakket_http_requests_total", "HTTP requests by route", ["endpoint", "method", "status"]
)
LATENCY = Histogram(
    "kindpakket_http_request_duration_seconds", "Time to answer, by route", ["endpoint"]
)
PAYMENTS = Counter(
    "kindpakket_payments_total", "Payment attempts by outcome and refusal code", ["outcome", "code"]
)
LOGIN_FAILURES = Counter("kindpakket_login_failures_total", "Refused logins", ["door"])
LOCKOUTS = Counter("kindpakket_lockouts_total", "Logins refused by a lockout or limit", ["door"])
CHAIN_LOCK_WAIT = Histogram(
    "kindpakket_chain_lock_wait_seconds",
    "Time an append waited for the ledger's chain-head lock",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
CHAIN_LOCK_HOLD = Histogram(
    "kindpakket_chain_lock_hold_seconds",
    "Time a unit of work that appended held the chain lock, up to the end of its commit",
    buckets=(
        0.0005, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03,
        0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5,
    ),
)  # fmt: skip
PAYMENT_RULE = "/api/v1/merchant/redemptions"
LOGIN_ENDPOINTS = {"wallet.login", "wallet.activate", "merchant.login", "admin.login"}


def init_app(app: Flask) -> None:
    """Count every request and payment, and serve /metrics."""
    store.on_lock_wait(CHAIN_LOCK_WAIT.observe)
    store.on_lock_hold(CHAIN_LOCK_HOLD.observe)

    @app.before_request
    def _start() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        endpoint = request.endpoint or "unmatched"
        if endpoint == "metrics":
            return response
        status = response.status_code
        REQUESTS.labels(endpoint, request.method, str(status)).inc()
        started = g.get("metrics_started")
        if started is not None:
            LATENCY.labels(endpoint).observe(time.perf_counter() - started)
        if request.method == "POST":
            _count_post(endpoint, status, response)
        return response

    @app.get("/metrics")
    def metrics() -> Response:
        """Answer Prometheus, given the bearer token."""
        token = current_app.config.get("METRICS_TOKEN")
        if not token:
            abort(404)
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), str(token).encode()):
            return Response("bearer token required\n", 401, {"WWW-Authenticate": "Bearer"})
        body = generate_latest(_registry()) + generate_latest(_ledger_registry())
        return Response(body, 200, {"Content-Type": CONTENT_TYPE_LATEST})


def _count_post(endpoint: str, status: int, response: Response) -> None:
    rule = request.url_rule.rule if request.url_rule else ""
    if rule == PAYMENT_RULE:
        if status in (200, 201):
            PAYMENTS.labels("replayed" if status == 200 else "paid", "").inc()
        else:
            body = response.get_json(silent=True) or {}
            code = str((body.get("error") or {}).get("code", status))
            PAYMENTS.labels("refused", code).inc()
    elif endpoint in LOGIN_ENDPOINTS and status >= 400:
        door = endpoint.split(".")[0]
        (LOCKOUTS if status == 429 else LOGIN_FAILURES).labels(door).inc()


def _registry() -> Any:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


class _LedgerCollector:
    """Read the ledger's size and its latest checkpoint at scrape time."""

    def collect(self) -> Any:
        from ledger import proofs

        with read_only(), db.sessionmaker() as session:
            size = proofs.tree_size(session)
            latest = proofs.latest_checkpoint(session)
        yield GaugeMetricFamily("kindpakket_ledger_entries", "Entries in the ledger", value=size)
        covered = latest.size if latest else 0
        yield GaugeMetricFamily(
            "kindpakket_checkpoint_size", "Entries the latest checkpoint covers", value=covered
        )
        if latest is not None:
            made = latest.created_at
            made = made if made.tzinfo else made.replace(tzinfo=UTC)
            age = (datetime.now(UTC) - made).total_seconds()
            yield GaugeMetricFamily(
                "kindpakket_checkpoint_age_seconds", "Age of the latest checkpoint", value=age
            )


def _ledger_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_LedgerCollector())  # type: ignore[arg-type]
    return registry
