"""A deploy nobody notices: 1,000 requests through HAProxy while replica A is restarted
(SIGTERM, drain, exit, start) -- no error, no reset (issue 25: 2,649 of 12,420 failed)."""

import subprocess
import threading
import time
from pathlib import Path

import httpx

from tests.cluster.conftest import ROOT

CLIENTS = 8
PER_CLIENT = 125  # 1,000 requests in all
PAUSE = 0.1  # spreads them over the ~15 s the restart takes


def _client(base_url: str, results: list, errors: list) -> None:
    # A keep-alive client, as a browser or an SDK is; it never retries on its own.
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for n in range(PER_CLIENT):
            try:
                if n % 5 == 4:  # writes too: a POST is not retried by the balancer
                    response = client.post("/api/v1/auth/refresh", json={"refresh": "expired"})
                    expected = 401
                else:
                    response = client.get("/api/v1/tracks" if n % 2 else "/api/v1/playlists")
                    expected = 200
                results.append(
                    (response.status_code, expected, response.headers.get("x-served-by"))
                )
            except httpx.HTTPError as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
            time.sleep(PAUSE)


def test_a_thousand_requests_through_a_rolling_restart_of_replica_a(cluster):
    pid_file = Path(cluster["CLUSTER_DIR"]) / "run" / "web-a.pid"
    old_pid = pid_file.read_text().strip()
    results: list = []
    errors: list = []
    threads = [
        threading.Thread(target=_client, args=(cluster["CLUSTER_URL"], results, errors))
        for _ in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    restart = subprocess.run(
        [str(ROOT / "scripts" / "cluster.sh"), "restart", "web-a"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    for thread in threads:
        thread.join(timeout=120)

    assert restart.returncode == 0, restart.stderr
    assert pid_file.read_text().strip() != old_pid  # replica A really was replaced
    assert errors == []  # no reset, no refused connection, no timeout
    assert len(results) == CLIENTS * PER_CLIENT
    wrong = [(status, expected) for status, expected, _ in results if status != expected]
    assert wrong == []  # no 502/503 from the balancer, no 500
    served = {name for *_, name in results}
    assert served == {"web-a", "web-b"}
