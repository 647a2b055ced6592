"""The cluster tests: real processes started by ``scripts/cluster.sh up`` (HAProxy, two gunicorn
replicas, two workers, beat, PostgreSQL primary + streaming replica, PgBouncer, Redis, S3).

They are marked ``cluster`` and skipped while no cluster answers -- except under
``VEZA_CLUSTER_REQUIRED=1`` (``.ci/run``), where a missing cluster fails the run loudly.
They talk HTTP to the balancer (or to one replica) and read state back from the primary.
"""

import os
import subprocess
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
ENV_FILE = Path(os.environ.get("CLUSTER_ENV_FILE", ROOT / ".cluster" / "cluster.env"))
PASSWORD = "Cluster-test-passw0rd!"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.cluster)


def _read_env() -> dict[str, str]:
    values = {}
    for line in ENV_FILE.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            values[key] = value.strip("'\"")
    return values


@pytest.fixture(scope="session")
def cluster() -> dict[str, str]:
    required = os.environ.get("VEZA_CLUSTER_REQUIRED") == "1"
    problem = None
    if not ENV_FILE.exists():
        problem = f"no cluster: {ENV_FILE} is missing (run scripts/cluster.sh up)"
    else:
        env = _read_env()
        try:
            ready = httpx.get(env["CLUSTER_URL"] + "/readyz", timeout=5)
            if ready.status_code != 200:
                problem = f"the cluster is not ready: {ready.status_code} {ready.text[:300]}"
        except httpx.HTTPError as exc:
            problem = f"no cluster answers at {env['CLUSTER_URL']}: {exc}"
    if problem:
        if required:
            pytest.fail(f"VEZA_CLUSTER_REQUIRED=1 and {problem}", pytrace=False)
        pytest.skip(problem)
    return env


@pytest.fixture(scope="session")
def app_env(cluster) -> dict[str, str]:
    """The environment of the cluster's app processes (.cluster/app.env), for commands."""
    values = {}
    for line in (Path(cluster["CLUSTER_DIR"]) / "app.env").read_text().splitlines():
        if "=" in line:
            key, value = line.split("=", 1)
            values[key] = value.strip("'\"")
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "REDIS_", "CELERY_", "VEZA_", "APP_ENV", "DJANGO_"))
    }
    return {**base, **values, "DJANGO_SETTINGS_MODULE": "veza.settings"}


@pytest.fixture
def primary(cluster):
    with psycopg.connect(cluster["CLUSTER_PRIMARY_DSN"], autocommit=True) as connection:
        yield connection


@pytest.fixture
def replica_db(cluster):
    with psycopg.connect(cluster["CLUSTER_REPLICA_DSN"], autocommit=True) as connection:
        yield connection


@pytest.fixture
def balancer(cluster):
    with httpx.Client(base_url=cluster["CLUSTER_URL"], timeout=30) as client:
        yield client


def manage(app_env: dict, script: str, *, timeout: float = 300) -> str:
    """Python run by ``manage.py shell`` with the cluster's settings (arrangements and
    publishing tasks to the cluster's broker); its stdout."""
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=app_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def register(client: httpx.Client, prefix: str) -> dict:
    """A new account through the API: its id, email and bearer headers."""
    name = f"{prefix}{uuid.uuid4().hex[:10]}"
    response = client.post(
        "/api/v1/auth/register",
        json={"email": f"{name}@example.com", "username": name, "password": PASSWORD},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return {
        "id": body["user"]["id"],
        "email": f"{name}@example.com",
        "username": name,
        "headers": {"Authorization": f"Bearer {body['access']}"},
        "served_by": response.headers.get("x-served-by"),
    }


def login(client: httpx.Client, account: dict) -> httpx.Response:
    response = client.post(
        "/api/v1/auth/login", json={"email": account["email"], "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    account["headers"] = {"Authorization": f"Bearer {response.json()['access']}"}
    return response
