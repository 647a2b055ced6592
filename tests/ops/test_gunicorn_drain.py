"""A replica told to stop (SIGTERM) leaves the load balancer before it closes its socket:
/readyz answers 503 "draining" for GUNICORN_DRAIN_SECONDS while every other request is still
served, then gunicorn stops as before. The rolling restart through HAProxy: tests/cluster."""

import os
import signal
import time

import httpx
import pytest

from tests.ops.conftest import VENV_BIN, free_port, start, stop, tail, wait_for

DRAIN_SECONDS = 3


def _get(port: int, path: str) -> httpx.Response | None:
    try:
        return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=2)
    except httpx.HTTPError:
        return None


def test_sigterm_fails_readyz_first_serves_meanwhile_then_exits(tmp_path):
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GUNICORN_", "DATABASE_URL", "REDIS_URL", "CELERY_", "VEZA_"))
    }
    env.update(
        APP_ENV="test",
        DJANGO_SETTINGS_MODULE="veza.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="2",
        GUNICORN_DRAIN_SECONDS=str(DRAIN_SECONDS),
    )
    server = start(
        [str(VENV_BIN / "gunicorn"), "veza.wsgi:application", "-c", "gunicorn.conf.py"],
        env=env,
        log=log,
    )
    try:
        ready = wait_for(
            lambda: (r := _get(port, "/readyz")) is not None and r.status_code == 200, timeout=30
        )
        assert ready, tail(log)
        drain_file = f"/dev/shm/veza-drain-{server.pid}"
        if not os.path.isdir("/dev/shm"):
            pytest.skip("no /dev/shm: the drain file lives in the temporary directory")

        signalled = time.monotonic()
        os.kill(server.pid, signal.SIGTERM)  # the master only, as a deploy tool does

        draining = wait_for(
            lambda: (r := _get(port, "/readyz")) is not None and r.status_code == 503 and r,
            timeout=DRAIN_SECONDS,
            interval=0.05,
        )
        assert draining, tail(log)
        assert draining.json()["failing"] == ["draining"]
        assert os.path.exists(drain_file)
        # Still serving everything else while the balancer notices.
        assert _get(port, "/healthz").status_code == 200
        assert _get(port, "/api/v1/auth/check-username?username=nobody") is not None

        server.wait(timeout=DRAIN_SECONDS + 15)
        took = time.monotonic() - signalled
        assert DRAIN_SECONDS <= took < DRAIN_SECONDS + 15, tail(log)
        assert server.returncode == 0, tail(log)
        assert not os.path.exists(drain_file)
        assert _get(port, "/healthz") is None  # the socket is closed
    finally:
        stop(server)
