"""A delivery storm: one signed refund event sent N times at once to the running server.

    python -m bench.burst --project URL --deliveries 1000 --out burst.json

A paid order and its pending refund are made on the bench database through the project's
own paths (the test factories: payment success, then a refund as phase 1 leaves it), then
``--clients`` keep-alive connections, released together, deliver the same signed
``refund_succeeded`` event until ``--deliveries`` are sent. Printed: the wall time of the
storm, the answers, and what the database holds afterwards (one ledger movement, one stored
event counting every delivery).
"""

import argparse
import http.client
import json
import os
import sys
import threading
import time
import uuid
from collections import Counter
from urllib.parse import urlsplit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veza.settings")

import django  # noqa: E402

django.setup()

from payments.intake.webhooks import sign  # noqa: E402
from payments.models import LedgerEntry, Refund, WebhookEvent  # noqa: E402
from tests.factories import UserFactory  # noqa: E402
from tests.marketplace.factories import (  # noqa: E402
    OrderFactory,
    ProductFactory,
    completed_order,
    opened_refund,
)


def storm(base: str, raw: bytes, deliveries: int, clients: int) -> tuple[float, Counter]:
    url, answers, lock = urlsplit(base), Counter(), threading.Lock()
    headers = {
        "Content-Type": "application/json",
        "X-Webhook-Signature-512": sign(raw),
        "X-Forwarded-Proto": "https",
    }
    gate = threading.Barrier(clients + 1)

    def deliver(share: int) -> None:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        conn.connect()
        gate.wait()
        for _ in range(share):
            try:
                conn.request("POST", "/api/v1/webhooks/hyperswitch", body=raw, headers=headers)
                response = conn.getresponse()
                outcome = json.loads(response.read() or b"{}").get("status", "?")
                key = f"{response.status} {outcome}"
            except (OSError, http.client.HTTPException) as exc:
                key = type(exc).__name__
                conn.close()
                conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
            with lock:
                answers[key] += 1
        conn.close()

    shares = [deliveries // clients + (i < deliveries % clients) for i in range(clients)]
    threads = [threading.Thread(target=deliver, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    gate.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, answers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--project", required=True)
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    # The bench database outlives a run: start the factories' numbering where no run has been.
    for made in (UserFactory, ProductFactory, OrderFactory):
        made.reset_sequence(time.time_ns() // 1000)
    order = completed_order()
    refund = opened_refund(order, provider_refund_id=f"ref_burst_{uuid.uuid4().hex}")
    event_id = f"evt_burst_{uuid.uuid4().hex}"
    raw = json.dumps(
        {
            "merchant_id": "merchant_veza",
            "event_id": event_id,
            "event_type": "refund_succeeded",
            "content": {
                "type": "refund_details",
                "object": {"refund_id": refund.provider_refund_id, "status": "succeeded"},
            },
        }
    ).encode()
    seconds, answers = storm(args.project, raw, args.deliveries, args.clients)

    refund.refresh_from_db()
    event = WebhookEvent.objects.get(event_id=event_id)
    report = {
        "deliveries": args.deliveries,
        "clients": args.clients,
        "seconds": round(seconds, 3),
        "answers": dict(answers),
        "refund_status": refund.status,
        "ledger_entries_for_refund": LedgerEntry.objects.filter(refund=refund).count(),
        "stored_event_deliveries": event.deliveries,
    }
    with open(args.out, "w") as fh:
        json.dump(report, fh, indent=2)
    print(
        f"{args.deliveries:,} deliveries of one event over {args.clients} connections: "
        f"{seconds:.2f} s; answers {dict(answers)}"
    )
    print(
        f"refund {report['refund_status']}, {report['ledger_entries_for_refund']} ledger "
        f"movement(s), stored event counts {event.deliveries} deliveries"
    )
    once = report["ledger_entries_for_refund"] == 1 and refund.status == Refund.Status.SUCCEEDED
    if not once or event.deliveries != args.deliveries:
        sys.exit("burst: the event was not applied exactly once")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
