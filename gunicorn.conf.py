"""Gunicorn settings, every one overridable from the environment.

    gunicorn veza.wsgi:application -c gunicorn.conf.py

GUNICORN_BIND (default 0.0.0.0:$PORT, PORT defaults to 8000), GUNICORN_WORKERS (2 x CPUs + 1,
at most 8), GUNICORN_THREADS (4), GUNICORN_TIMEOUT (30 s), GUNICORN_GRACEFUL_TIMEOUT (30 s),
GUNICORN_KEEPALIVE (5 s; above the load balancer's idle timeout is wrong, below is fine),
GUNICORN_WORKER_CLASS (gthread), GUNICORN_MAX_REQUESTS (0: workers are not recycled),
GUNICORN_FORWARDED_ALLOW_IPS (the proxies whose X-Forwarded-* headers are trusted; default
127.0.0.1), GUNICORN_LOG_LEVEL (info), GUNICORN_DRAIN_SECONDS (0; behind a load balancer, longer
than its health check's interval x fall count -- see "Deploys" below).

Recycling (max_requests) is off, and refused with the gthread worker: a gthread worker that
recycles drops the connections it has accepted but not yet read, keep-alive or not, and the
client sees "Connection reset by peer" (gunicorn issue #3038, still open; measured here: 10 to
26 of 480 requests lost with a 40-request recycle, keepalive 5 or 0) -- a lost order, refund or
webhook. The worker's memory is flat under load (tests/ops/test_gunicorn_recycling.py), so
nothing needs recycling. Where it is wanted anyway, use GUNICORN_WORKER_CLASS=sync (one request
per process, no keep-alive), which finishes its request and leaves the rest in the listen
backlog for the next worker: no request is dropped.
"""

import multiprocessing
import os
import tempfile
import time


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{_int('PORT', 8000)}"
workers = _int("GUNICORN_WORKERS", min(multiprocessing.cpu_count() * 2 + 1, 8))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
# gunicorn silently turns a sync worker with threads > 1 into gthread: keep sync really sync.
threads = _int("GUNICORN_THREADS", 1 if worker_class == "sync" else 4)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", max(max_requests // 10, 0))
if max_requests > 0 and (worker_class != "sync" or threads > 1):
    raise RuntimeError(
        f"GUNICORN_MAX_REQUESTS={max_requests} with the {worker_class} worker "
        f"({threads} threads) drops requests whenever a worker recycles (gunicorn issue "
        "#3038). Leave GUNICORN_MAX_REQUESTS at 0, or use GUNICORN_WORKER_CLASS=sync with "
        "GUNICORN_THREADS=1."
    )
# Behind a proxy that terminates TLS: only these addresses may set X-Forwarded-Proto, which
# Django trusts through SECURE_PROXY_SSL_HEADER.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# Each worker imports the app itself: no state (DB connections, Celery pools) shared over fork.
preload_app = False
# Heartbeat files in memory, not on a possibly slow container filesystem.
_SHM = "/dev/shm"  # noqa: S108 - gunicorn's own recommendation for containers
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR") or (
    _SHM if os.path.isdir(_SHM) else None
)
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# No query string (%(q)s) and no headers: signed download URLs and tokens stay out of logs.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%({x-request-id}o)s"'
proxy_protocol = False

# --- Deploys: leave the balancer before closing the socket --------------------------------
# On SIGTERM gunicorn closes its listening socket at once and lets the workers finish what they
# hold; a balancer that still sends there gets refused connections and resets (issue 25: 2,649
# of 12,420 requests lost in a rolling restart). So the arbiter first creates the drain file,
# which makes /readyz answer 503 in every worker (veza.health.draining), keeps serving for
# GUNICORN_DRAIN_SECONDS while the balancer's health check takes the replica out, and only
# then stops as before (graceful_timeout for the requests in flight).
drain_seconds = _int("GUNICORN_DRAIN_SECONDS", 0)
# One file per master, named here in the master so that every worker it forks inherits it (set,
# not defaulted: a name inherited from a parent process would be another master's).
os.environ["VEZA_DRAIN_FILE"] = os.path.join(
    worker_tmp_dir or tempfile.gettempdir(), f"veza-drain-{os.getpid()}"
)


def _clear_drain_file() -> None:
    try:
        os.unlink(os.environ["VEZA_DRAIN_FILE"])
    except FileNotFoundError:
        pass


def on_starting(server):
    _clear_drain_file()  # a file left by a master killed with SIGKILL under the same pid


def when_ready(server):
    stop = server.handle_term  # raises StopIteration: the graceful stop

    def drain_then_stop():
        with open(os.environ["VEZA_DRAIN_FILE"], "w") as flag:
            flag.write(str(os.getpid()))
        server.log.info("draining: /readyz fails for %s s before the socket closes", drain_seconds)
        # The master sleeps; the workers keep answering the requests the balancer still sends.
        time.sleep(drain_seconds)
        stop()

    # The arbiter dispatches each queued signal to its handle_<name> attribute.
    server.handle_term = drain_then_stop


def on_exit(server):
    _clear_drain_file()
