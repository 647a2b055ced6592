"""Gunicorn settings, every one overridable from the environment.

    gunicorn veza.wsgi:application -c gunicorn.conf.py

GUNICORN_BIND (default 0.0.0.0:$PORT, PORT defaults to 8000), GUNICORN_WORKERS (2 x CPUs + 1,
at most 8), GUNICORN_THREADS (4), GUNICORN_TIMEOUT (30 s), GUNICORN_GRACEFUL_TIMEOUT (30 s),
GUNICORN_KEEPALIVE (5 s; above the load balancer's idle timeout is wrong, below is fine),
GUNICORN_MAX_REQUESTS (1000, with jitter), GUNICORN_FORWARDED_ALLOW_IPS (the proxies whose
X-Forwarded-* headers are trusted; default 127.0.0.1), GUNICORN_LOG_LEVEL (info).
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{_int('PORT', 8000)}"
workers = _int("GUNICORN_WORKERS", min(multiprocessing.cpu_count() * 2 + 1, 8))
threads = _int("GUNICORN_THREADS", 4)
worker_class = "gthread"
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", max(max_requests // 10, 0))
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
