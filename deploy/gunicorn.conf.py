"""gunicorn settings for Kindpakket (docs/deploy.md): gthread workers behind nginx."""

import os

bind = os.environ.get("KINDPAKKET_BIND", "127.0.0.1:8000")  # nginx only; never a public bind
worker_class = "gthread"
workers = int(os.environ.get("KINDPAKKET_WORKERS", "2"))  # about one per core
threads = int(os.environ.get("KINDPAKKET_THREADS", "8"))
# On SIGTERM (systemctl stop/restart) a worker stops taking requests and finishes the ones
# it runs; after graceful_timeout seconds it is killed. A payment takes milliseconds, so 30 s
# is ample; a killed payment's transaction is rolled back, never half written.
graceful_timeout = 30
timeout = 60  # a worker silent this long is restarted
keepalive = 5
accesslog = None  # the app logs one JSON line per request without paths or query strings
errorlog = "-"
forwarded_allow_ips = "127.0.0.1"  # only nginx on this host sets X-Forwarded-*
max_requests = 10000
max_requests_jitter = 1000


def on_starting(server):
    """Empty the metrics directory of an earlier run (prometheus_client multiprocess mode)."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)
        for name in os.listdir(directory):
            os.unlink(os.path.join(directory, name))


def child_exit(server, worker):
    """Let prometheus_client forget the gauges of a worker that ended."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
