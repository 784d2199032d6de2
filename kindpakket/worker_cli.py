"""``kindpakket worker``: run the notification worker beside the web server (see worker.py)."""

from __future__ import annotations

import signal
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("worker")
@click.option("--once", is_flag=True, help="Run the daily jobs, send what is due, then stop.")
@click.option("--batch", default=100, show_default=True, help="Rows claimed per transaction.")
@click.option("--lease", default=300, show_default=True, help="Seconds a claim lasts.")
@click.option("--poll", default=2.0, show_default=True, help="Seconds to wait when idle.")
@with_appcontext
def worker_command(once: bool, batch: int, lease: int, poll: float) -> None:
    """Send queued e-mail and run the daily reminders and digests (several may run)."""
    from kindpakket import worker

    app: Any = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config.get("SMTP_URL"):
        raise click.ClickException(
            "KINDPAKKET_SMTP_URL is not set (e.g. smtp://127.0.0.1:25); nothing can be sent"
        )
    stopping: list[bool] = []

    def stop(_signum: int, _frame: Any) -> None:
        stopping.append(True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    stats = worker.run(
        app, once=once, batch=batch, lease=lease, poll=poll, should_stop=lambda: bool(stopping)
    )
    click.echo(f"worker: {stats.sent} sent, {stats.failed} failed, {stats.retried} to retry")
    for name, queued in sorted(stats.jobs.items()):
        click.echo(f"job {name}: {queued}")
