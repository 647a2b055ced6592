"""A real Celery worker (and beat) against a real broker and the test PostgreSQL database.

Runs when CELERY_BROKER_URL_FOR_TESTS names a broker (e.g. redis://127.0.0.1:6379/5) and the
tests run on PostgreSQL: the worker is another process, so it must see committed rows of the
same test database (SQLite's in-memory test database is invisible to it).
"""

import os
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from tests.ops.conftest import start, stop, tail, wait_for

BROKER = os.environ.get("CELERY_BROKER_URL_FOR_TESTS", "")
# A queue of this run's own: another run's worker on the same broker never takes our tasks.
QUEUE = f"veza-test-{uuid.uuid4().hex[:12]}"

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(
        not BROKER, reason="set CELERY_BROKER_URL_FOR_TESTS (e.g. redis://127.0.0.1:6379/5)"
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("the worker process must share the test database: needs PostgreSQL")


def _test_database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{db['NAME']}"


def _reset_publishing(app) -> None:
    """Forget pooled broker connections and the queue/routing set-up Celery caches, so the
    next publish uses the current broker_url and task_default_queue."""
    from kombu import pools

    pools.reset()  # closes kombu's global pools *and* forgets them (no closed pool reused)
    app._pool = None
    app.__dict__.pop("amqp", None)  # a cached property: rebuilt from app.conf on next use


@pytest.fixture
def broker():
    """Publish from this test process to the real broker (the app read eager mode at import)."""
    from veza.celery import app

    saved = (app.conf.task_always_eager, app.conf.broker_url, app.conf.task_default_queue)
    app.conf.task_always_eager = False
    app.conf.broker_url = BROKER
    app.conf.task_default_queue = QUEUE
    _reset_publishing(app)
    try:
        yield app
    finally:
        app.conf.task_always_eager, app.conf.broker_url, app.conf.task_default_queue = saved
        _reset_publishing(app)


@pytest.fixture
def celery_env(tmp_path) -> dict:
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERSWITCH_")}
    env.update(
        APP_ENV="test",
        DJANGO_SETTINGS_MODULE="veza.settings",
        DATABASE_URL=_test_database_url(),
        CELERY_BROKER_URL=BROKER,
        CELERY_TASK_DEFAULT_QUEUE=QUEUE,
        # This run's own beat lock: a beat of another run on the same Redis does not hold it.
        BEAT_LOCK_KEY=f"veza:beat-leader:{QUEUE}",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mail_dir),
        LOG_FORMAT="plain",
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    env.pop("SMTP_HOST", None)
    return env


def _celery(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "veza", *args]


def _emails(mail_dir: Path) -> list[str]:
    return [p.read_text(errors="replace") for p in sorted(mail_dir.glob("*"))]


def test_registration_email_is_sent_by_the_worker_with_the_request_id(
    broker, celery_env, api_client, tmp_path
):
    mail_dir = Path(celery_env["EMAIL_FILE_PATH"])
    log = tmp_path / "worker.log"
    worker = None
    try:
        worker = start(
            _celery("worker", "--loglevel=INFO", "--pool=solo", "--without-heartbeat"),
            env=celery_env,
            log=log,
        )
        response = api_client.post(
            "/api/v1/auth/register",
            {"email": "ada@example.com", "username": "ada", "password": "An0ther-g00d-one!"},
            format="json",
            HTTP_X_REQUEST_ID="worker-rid-42",
        )
        assert response.status_code == 201, response.content

        sent = wait_for(
            lambda: [m for m in _emails(mail_dir) if "verify-email?token=" in m], timeout=30
        )
        assert sent, f"no verification email within 30 s; worker log:\n{tail(log)}"
        assert "ada@example.com" in sent[0]
        # The task's own log line carries the id of the request that enqueued it.
        logged = wait_for(
            lambda: [
                line
                for line in log.read_text(errors="replace").splitlines()
                if "sent email verify_email" in line
            ],
            timeout=5,
        )
        assert logged and "[worker-rid-42]" in logged[0], tail(log)
    finally:
        stop(worker)


def test_beat_reconciles_a_refund_left_without_provider_id(broker, celery_env, tmp_path):
    from marketplace.models import Order
    from payments.models import Refund
    from tests.marketplace.factories import completed_order, opened_refund

    order = completed_order()
    refund = opened_refund(
        order, requested_by=order.buyer, reason="crashed between the row and the provider call"
    )

    env = {**celery_env, "REFUND_RECONCILE_INTERVAL": "2", "REFUND_RECONCILE_AFTER": "0"}
    worker_log, beat_log = tmp_path / "worker.log", tmp_path / "beat.log"
    worker = beat = None
    try:
        worker = start(
            _celery("worker", "--loglevel=INFO", "--pool=solo", "--without-heartbeat"),
            env=env,
            log=worker_log,
        )
        beat = start(
            _celery("beat", "--loglevel=INFO", "-s", str(tmp_path / "celerybeat-schedule")),
            env=env,
            log=beat_log,
        )

        def settled():
            refund.refresh_from_db()
            return refund.status != Refund.Status.PENDING

        assert wait_for(settled, timeout=30, interval=0.5), (
            f"refund still pending after 30 s\n--- worker\n{tail(worker_log)}"
            f"\n--- beat\n{tail(beat_log)}"
        )
        assert refund.status == Refund.Status.SUCCEEDED, tail(worker_log)
        assert refund.provider_refund_id == str(refund.pk)
        order.refresh_from_db()
        assert order.status == Order.Status.REFUNDED
    finally:
        stop(beat)
        stop(worker)
