"""The container files say what operations rely on (no Docker engine needed to check)."""

import re

import pytest
import yaml

from tests.ops.conftest import ROOT

APP_SERVICES = {"migrate", "web", "worker", "beat"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def test_compose_has_every_service(compose):
    assert (
        set(compose["services"])
        == {
            "postgres",
            "postgres-replica",
            "pgbouncer",
            "haproxy",
            "redis",
            "minio",
            "minio-setup",
        }
        | APP_SERVICES
    )


def test_app_services_run_the_right_commands(compose):
    services = compose["services"]
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert services["web"]["command"][:4] == [
        "gunicorn",
        "veza.wsgi:application",
        "-c",
        "gunicorn.conf.py",
    ]
    assert services["worker"]["command"][:4] == ["celery", "-A", "veza", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "veza", "beat"]


def test_app_services_run_in_production_with_secrets_from_env_file(compose):
    for name in APP_SERVICES:
        service = compose["services"][name]
        assert service["environment"]["APP_ENV"] == "production", name
        assert service["environment"]["DATABASE_URL"].startswith("postgres://"), name
        assert service["environment"]["REDIS_URL"].startswith("redis://redis:"), name
        assert service["environment"]["CELERY_BROKER_URL"].startswith("redis://redis:"), name
        assert service["env_file"][0]["path"] == ".env", name
    text = (ROOT / "compose.yaml").read_text()
    assert not re.search(r"(JWT_SECRET|DJANGO_SECRET_KEY|API_KEY)\s*:", text), (
        "secrets belong in .env, not in compose.yaml"
    )


def test_start_order_waits_for_health_and_migrations(compose):
    services = compose["services"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["redis"]["condition"] == "service_healthy", name
    assert services["web"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_every_long_running_service_has_a_healthcheck(compose):
    services = compose["services"]
    for name in ("postgres", "redis", "web", "worker", "beat"):
        test = services[name]["healthcheck"]["test"]
        assert test[0] in ("CMD", "CMD-SHELL"), name
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"][1]
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "/readyz" in " ".join(services["web"]["healthcheck"]["test"])
    assert "inspect ping" in services["worker"]["healthcheck"]["test"][1]
    assert services["migrate"]["healthcheck"] == {"disable": True}
    assert services["migrate"]["restart"] == "no"


def test_media_lives_in_the_object_store_shared_by_every_replica(compose):
    services = compose["services"]
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert env["MEDIA_STORAGE_URL"].startswith("s3://"), name
        assert "endpoint_url=http://minio:9000" in env["MEDIA_STORAGE_URL"], name
        assert env["AWS_ACCESS_KEY_ID"].startswith("${MINIO_ROOT_USER"), name
        # No app container keeps uploads on a disk of its own.
        assert not any("/app/media" in v for v in services[name].get("volumes", [])), name
    for name in ("web", "worker"):
        depends = services[name]["depends_on"]
        assert depends["minio-setup"]["condition"] == "service_completed_successfully", name
    assert services["minio-setup"]["depends_on"]["minio"]["condition"] == "service_healthy"
    assert "mc mb --ignore-existing" in services["minio-setup"]["command"][0]
    assert services["minio"]["healthcheck"]["test"][0] == "CMD"
    assert "miniodata:/data" in services["minio"]["volumes"]
    assert {"pgdata", "redisdata", "miniodata"} <= set(compose["volumes"])
    # The object store's credentials come from .env too.
    assert services["minio"]["environment"]["MINIO_ROOT_PASSWORD"].startswith("${")


def test_two_web_replicas_two_workers_and_exactly_one_beat(compose):
    services = compose["services"]
    assert services["web"]["deploy"]["replicas"] == "${WEB_REPLICAS:-2}"
    assert services["worker"]["deploy"]["replicas"] == "${WORKER_REPLICAS:-2}"
    assert services["beat"]["deploy"]["replicas"] == 1
    # One host port per web replica: a fixed single port would stop the second one.
    assert services["web"]["ports"] == ["${WEB_PORTS:-8000-8001}:8000"]


def test_dockerfile_is_multi_stage_non_root_and_healthchecked(dockerfile):
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", dockerfile, re.MULTILINE)
    assert len(stages) >= 2
    assert {name for _, name in stages} >= {"builder", "runtime"}
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim$", dockerfile, re.MULTILINE)
    assert "COPY --from=builder /opt/venv /opt/venv" in dockerfile

    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    assert users, "no USER: the container would run as root"
    assert users[-1].split(":")[0] not in ("root", "0")

    healthcheck = re.search(r"^HEALTHCHECK .*\n(?:\s+.*\n)*", dockerfile, re.MULTILINE)
    assert healthcheck and "/healthz" in healthcheck.group(0)
    assert "urllib" in healthcheck.group(0)

    assert "python -m compileall" in dockerfile
    assert "collectstatic --noinput" in dockerfile
    assert re.search(
        r'^CMD \["gunicorn", "veza.wsgi:application", "-c", "gunicorn.conf.py"\]$',
        dockerfile,
        re.MULTILINE,
    )


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", ".git", ".venv", "db.sqlite3", "media/"} <= ignored


# --- many machines: the same topology as scripts/cluster.sh (README "Scaling out") --------


def test_the_balancer_uses_the_repositorys_haproxy_cfg_over_both_web_replicas(compose):
    haproxy = compose["services"]["haproxy"]
    assert "./deploy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in haproxy["volumes"]
    # Compose names the replicas veza-web-1 and veza-web-2 (project "veza", two replicas).
    assert compose["name"] == "veza"
    assert compose["services"]["web"]["deploy"]["replicas"] == "${WEB_REPLICAS:-2}"
    assert {haproxy["environment"]["WEB_A_ADDR"], haproxy["environment"]["WEB_B_ADDR"]} == {
        "veza-web-1:8000",
        "veza-web-2:8000",
    }
    assert haproxy["depends_on"]["web"]["condition"] == "service_healthy"
    config = (ROOT / "deploy" / "haproxy.cfg").read_text()
    for line in (
        "balance roundrobin",
        "option forwardfor",
        "http-check send meth GET uri /readyz",
        "option redispatch",
        "retry-on conn-failure",
        "http-request disable-l7-retry unless METH_GET",
    ):
        assert line in config, line


def test_the_app_reads_through_pgbouncer_and_a_streaming_replica_behind_one_proxy(compose):
    services = compose["services"]
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert "@pgbouncer:5432/" in env["DATABASE_URL"], name
        assert "@postgres-replica:5432/" in env["DATABASE_REPLICA_URLS"], name
        assert env["DISABLE_SERVER_SIDE_CURSORS"] == "true", name
        assert env["TRUSTED_PROXY_COUNT"] == "1", name
    assert "@postgres:5432/" in services["migrate"]["environment"]["DATABASE_URL"]
    assert services["pgbouncer"]["environment"]["POOL_MODE"] == "transaction"
    assert "pg_basebackup" in services["postgres-replica"]["command"][0]
    assert "wal_level=replica" in services["postgres"]["command"]
    assert services["web"]["environment"]["GUNICORN_DRAIN_SECONDS"] == "3"


def test_the_cluster_script_runs_the_same_settings_as_compose():
    script = (ROOT / "scripts" / "cluster.sh").read_text()
    for setting in (
        "DISABLE_SERVER_SIDE_CURSORS=true",
        "TRUSTED_PROXY_COUNT=1",
        "DATABASE_REPLICA_URLS=",
        "GUNICORN_DRAIN_SECONDS=",
        "pool_mode = transaction",
        "pg_basebackup",
        "-f deploy/haproxy.cfg",
    ):
        assert setting in script, setting


def test_haproxy_accepts_the_configuration(tmp_path):
    import shutil
    import subprocess

    if not shutil.which("haproxy"):
        pytest.skip("haproxy is not installed (scripts/cluster.sh installs it)")
    env = {
        "HAPROXY_BIND": "127.0.0.1:65001",
        "HAPROXY_STATS_BIND": "127.0.0.1:65002",
        "WEB_A_ADDR": "127.0.0.1:1",
        "WEB_B_ADDR": "127.0.0.1:2",
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
    }
    result = subprocess.run(
        ["haproxy", "-c", "-f", str(ROOT / "deploy" / "haproxy.cfg")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
