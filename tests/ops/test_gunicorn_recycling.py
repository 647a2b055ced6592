"""No request is dropped by worker recycling.

gunicorn's gthread worker, when it recycles after ``max_requests``, drops the connections it
has accepted but not yet read (keep-alive or fresh): the client sees ``Connection reset by
peer`` (gunicorn issue #3038, still open). Measured with the harness below: 10 to 26 of 480
keep-alive requests lost with a 40-request recycle, keepalive 5 or 0. So gunicorn.conf.py does
not recycle gthread workers (their memory stays flat, measured here) and refuses to; recycling
is allowed with the sync worker, which loses nothing.
"""

import http.client
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.ops.conftest import ROOT, VENV_BIN, free_port, start, stop, tail, wait_for

CLIENTS = 4


def _env(**extra) -> dict:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GUNICORN_", "DATABASE_URL", "REDIS_URL", "CELERY_"))
    }
    return {
        **base,
        "APP_ENV": "test",
        "DJANGO_SETTINGS_MODULE": "veza.settings",
        "DISABLE_RATE_LIMIT_FOR_TESTS": "true",
        **extra,
    }


def _client(port: int, count: int, outcomes: list, errors: list) -> None:
    """One keep-alive client: reuses its connection whenever the server lets it, never retries."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        for n in range(count):
            try:
                if n % 2:
                    conn.request(
                        "POST",
                        "/api/v1/auth/refresh",
                        body=b'{"refresh": "not-a-token"}',
                        headers={"Content-Type": "application/json"},
                    )
                else:
                    conn.request("GET", "/healthz")
                response = conn.getresponse()
                response.read()
                outcomes.append(response.status)
            except (OSError, http.client.HTTPException) as exc:
                errors.append(f"request {n}: {type(exc).__name__}: {exc}")
                conn.close()
    finally:
        conn.close()


def _drive(port: int, per_client: int) -> tuple[list[int], list[str]]:
    outcomes: list[int] = []
    errors: list[str] = []
    threads = [
        threading.Thread(target=_client, args=(port, per_client, outcomes, errors))
        for _ in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    return outcomes, errors


def _serve(tmp_path: Path, **env) -> tuple[subprocess.Popen, int, Path]:
    port = free_port()
    log = tmp_path / "gunicorn.log"
    server = start(
        [str(VENV_BIN / "gunicorn"), "veza.wsgi:application", "-c", "gunicorn.conf.py"],
        env=_env(GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="1", **env),
        log=log,
    )
    if not wait_for(lambda: b"Booting worker" in log.read_bytes(), timeout=30):
        stop(server)
        pytest.fail(tail(log))
    return server, port, log


def _rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))


def test_default_worker_answers_every_keep_alive_request_without_recycling_or_growing(tmp_path):
    server, port, log = _serve(tmp_path)
    try:
        warm_outcomes, warm_errors = _drive(port, 50)  # imports, caches, connection pools
        (worker_pid,) = re.findall(r"Booting worker with pid: (\d+)", log.read_text())
        before = _rss_kib(int(worker_pid))
        outcomes, errors = _drive(port, 300)  # 1,200: more than the old max_requests (1000)
        after = _rss_kib(int(worker_pid))
    finally:
        stop(server)
    output = log.read_text(errors="replace")
    assert warm_errors == errors == [], f"{(warm_errors + errors)[:10]}\n{tail(log)}"
    assert len(warm_outcomes) + len(outcomes) == CLIENTS * 350
    assert set(outcomes) == {200, 401}
    assert "Autorestarting worker" not in output
    assert re.findall(r"Booting worker with pid: (\d+)", output) == [worker_pid]
    # Flat memory is why no recycling is needed; a leak of a few kB per request would show.
    assert after - before < 16 * 1024, f"worker RSS grew from {before} to {after} KiB"


def test_a_recycling_sync_worker_answers_every_keep_alive_request(tmp_path):
    max_requests = 40
    server, port, log = _serve(
        tmp_path,
        GUNICORN_WORKER_CLASS="sync",
        GUNICORN_MAX_REQUESTS=str(max_requests),
        GUNICORN_MAX_REQUESTS_JITTER="0",
    )
    try:
        outcomes, errors = _drive(port, 120)
    finally:
        stop(server)
    output = log.read_text(errors="replace")
    total = CLIENTS * 120
    assert errors == [], f"{len(errors)} of {total} requests dropped: {errors[:10]}\n{tail(log)}"
    assert len(outcomes) == total and set(outcomes) == {200, 401}
    assert "Using worker: sync" in output
    # The run really recycled the worker many times over.
    assert output.count("Autorestarting worker") >= total // max_requests - 2, tail(log)


def _conf(**env) -> subprocess.CompletedProcess:
    code = (
        "import json, runpy; c = runpy.run_path('gunicorn.conf.py'); "
        "print(json.dumps([c['worker_class'], c['threads'], c['max_requests'], c['keepalive']]))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize(
    "env",
    [
        {"GUNICORN_MAX_REQUESTS": "1000"},
        {"GUNICORN_MAX_REQUESTS": "1000", "GUNICORN_KEEPALIVE": "0"},
        {"GUNICORN_MAX_REQUESTS": "1000", "GUNICORN_WORKER_CLASS": "sync", "GUNICORN_THREADS": "4"},
    ],
)
def test_recycling_a_threaded_worker_is_refused_at_start_up(env):
    result = _conf(**env)
    assert result.returncode != 0
    assert "#3038" in result.stderr


@pytest.mark.parametrize(
    "env, expected",
    [
        ({}, '["gthread", 4, 0, 5]'),
        ({"GUNICORN_WORKER_CLASS": "sync"}, '["sync", 1, 0, 5]'),
        (
            {"GUNICORN_WORKER_CLASS": "sync", "GUNICORN_MAX_REQUESTS": "500"},
            '["sync", 1, 500, 5]',
        ),
    ],
)
def test_worker_class_threads_and_recycling_settings(env, expected):
    result = _conf(**env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
