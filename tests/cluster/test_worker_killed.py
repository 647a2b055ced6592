"""A worker's processes SIGKILLed in the middle of a burst of 200 tasks -- 120 emails, 40
webhook deliveries, 40 payout runs over 20 sellers: every effect happens exactly once.

Tasks are acknowledged late and rejected when their process dies, so the killed tasks run
again on a live process; each is safe to run twice (README "Scaling out")."""

import json
import os
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.cluster.conftest import manage

EMAILS, DELIVERIES, PAYOUT_RUNS, SELLERS = 120, 40, 40, 20

ARRANGE = """
import json, random
from django.utils import timezone
from accounts.tasks import send_templated_email
from developer.models import OutboxEvent, WebhookDelivery, WebhookEndpoint
from developer.tasks import deliver
from payments.tasks import run_payouts
from tests.factories import CreatorFactory
from tests.payments.payout_helpers import released, with_method

run, receiver = {run!r}, {receiver!r}
# Each run of this script is a new process: its factories' sequences would repeat unique
# values (usernames, payment ids) of the previous run's rows.
import factory
from tests import factories as account_factories
from tests.marketplace import factories as market_factories
offset = random.randrange(10**6, 10**9)
for module in (account_factories, market_factories):
    for value in vars(module).values():
        if isinstance(value, type) and issubclass(value, factory.Factory) and value._meta.model:
            value.reset_sequence(offset, force=True)
sellers = []
for _ in range({sellers}):
    seller = CreatorFactory(email_verified=True)
    released(seller, price=2000)
    with_method(seller)
    sellers.append(str(seller.pk))
endpoint = WebhookEndpoint.objects.create(
    owner=CreatorFactory(email_verified=True), url=receiver, events=["track.created"],
    secret="whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=",
)
deliveries = []
for n in range({deliveries}):
    event = OutboxEvent.objects.create(type="track.created", data={{"run": run, "n": n}})
    event.dispatched_at = timezone.now()
    event.save(update_fields=["dispatched_at"])
    deliveries.append(WebhookDelivery.objects.create(endpoint=endpoint, event=event))
calls = [
    (send_templated_email, dict(template="verify_email", to=[f"{{run}}-{{n}}@example.com"],
     context={{"username": f"u{{n}}", "hours": 48, "url": "https://veza.test/v"}}))
    for n in range({emails})
]
calls += [(deliver, dict(delivery_id=str(d.pk))) for d in deliveries]
calls += [(run_payouts, dict()) for _ in range({payout_runs})]
random.Random(7).shuffle(calls)
for task, kwargs in calls:
    task.apply_async(kwargs=kwargs)
print(json.dumps({{"sellers": sellers, "messages": [d.message_id for d in deliveries]}}))
"""

OUTCOME = """
import json
from developer.models import WebhookDelivery, WebhookDeliveryAttempt
from payments.models import Payout
from payments.models import SandboxObject
sellers = {sellers!r}
payouts = list(Payout.objects.filter(seller_id__in=sellers).values("seller_id", "status", "pk"))
deliveries = WebhookDelivery.objects.filter(event__data__run={run!r})
print(json.dumps({{
    "payouts": [[str(p["seller_id"]), p["status"]] for p in payouts],
    "provider_payouts": SandboxObject.objects.filter(
        kind="payout", provider_id__in=[str(p["pk"]) for p in payouts]).count(),
    "deliveries": list(deliveries.values_list("status", flat=True)),
    "attempts": WebhookDeliveryAttempt.objects.filter(delivery__in=deliveries).count(),
}}))
"""


class _Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.received.append(self.headers.get("webhook-id"))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", _Receiver.received
    server.shutdown()
    server.server_close()


def _pool_processes(main_pid: str) -> list[int]:
    found = subprocess.run(["pgrep", "-P", main_pid], capture_output=True, text=True).stdout
    return [int(pid) for pid in found.split()]


def _emails(mail_dir: Path, run: str) -> Counter:
    counts: Counter = Counter()
    for path in mail_dir.glob("*"):
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("To: ") and run in line:
                counts[line[4:].strip()] += 1
    return counts


def test_a_worker_killed_mid_burst_loses_nothing_and_repeats_nothing(cluster, app_env, receiver):
    url, received = receiver
    run = f"burst{uuid.uuid4().hex[:8]}"
    mail_dir = Path(cluster["CLUSTER_DIR"]) / "mail"
    worker_pid = (Path(cluster["CLUSTER_DIR"]) / "run" / "worker-1.pid").read_text().strip()
    arranged = json.loads(
        manage(
            app_env,
            ARRANGE.format(
                run=run,
                receiver=url,
                sellers=SELLERS,
                deliveries=DELIVERIES,
                emails=EMAILS,
                payout_runs=PAYOUT_RUNS,
            ),
        )
        .strip()
        .splitlines()[-1]
    )

    # In the middle of the burst: every pool process of worker-1, twice, a second apart.
    deadline = time.monotonic() + 60
    while sum(_emails(mail_dir, run).values()) < EMAILS // 4:
        assert time.monotonic() < deadline, "the burst never started"
        time.sleep(0.05)
    killed = []
    for _ in range(2):
        for pid in _pool_processes(worker_pid):
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        time.sleep(1)
    assert killed, "worker-1 had no pool process to kill"

    def outcome() -> dict:
        return json.loads(
            manage(app_env, OUTCOME.format(sellers=arranged["sellers"], run=run))
            .strip()
            .splitlines()[-1]
        )

    # A delivery whose process died after its claim waits for the lease (60 s) and the sweep.
    deadline = time.monotonic() + 150
    while True:
        state = outcome()
        emails = _emails(mail_dir, run)
        done = (
            len(emails) == EMAILS
            and state["deliveries"].count("succeeded") == DELIVERIES
            and len(state["payouts"]) == SELLERS
            and all(status == "paid" for _, status in state["payouts"])
        )
        if done or time.monotonic() > deadline:
            break
        time.sleep(2)
    time.sleep(3)  # anything repeated late would show now
    state, emails = outcome(), _emails(mail_dir, run)

    # Emails: every one sent, none twice.
    assert len(emails) == EMAILS, f"{EMAILS - len(emails)} emails lost"
    assert [address for address, n in emails.items() if n > 1] == []
    # Payouts: one per seller, paid, the provider asked once for each.
    per_seller = Counter(seller for seller, _ in state["payouts"])
    assert sorted(per_seller) == sorted(arranged["sellers"])
    assert set(per_seller.values()) == {1}
    assert {status for _, status in state["payouts"]} == {"paid"}
    assert state["provider_payouts"] == SELLERS
    # Webhook deliveries: each succeeded, with one recorded attempt; the receiver got every
    # message id. A process killed between its POST and the record of it (seen in runs here:
    # 0 or 1 of 40) makes the sweep send that message again -- with the same webhook-id, on
    # which receivers deduplicate (Standard Webhooks), so the receiver's effect is still once.
    assert state["deliveries"] == ["succeeded"] * DELIVERIES
    assert set(received) == set(arranged["messages"])
    repeated = len(received) - len(set(received))
    assert repeated <= len(killed)
    assert state["attempts"] == DELIVERIES
    print(
        f"killed {len(killed)} pool processes; {EMAILS} emails, {SELLERS} payouts, "
        f"{DELIVERIES} deliveries each once ({repeated} repeated webhook-ids)"
    )
