"""A popular seller's refunds: N unique terminal refund webhooks of one seller, 16 at a time.

    python -m bench.refund_storm --project URL --ceiling URL --refunds 500 --out storm.json

N paid orders of one seller, each with a pending refund, are made on the bench database
through the project's own paths (as ``bench.burst`` makes its one: the payment-success path,
then a refund as phase 1 leaves it). Then ``--connections`` clients send the N signed
``refund_succeeded`` deliveries, each event once, through the running server: every request
is a unique terminal refund of the same seller, so every transaction needs that seller's
balance row. Printed and written: req/s, p50 and p99 of the project, and the ceiling (the
bare view) measured with wrk at the same number of connections in the same run, before and
after the storm. Run by ``scripts/bench.sh --refund-storm N`` against a project server of
its own started with a broker (``CELERY_BROKER_URL``, a queue of its own that the run empties):
as deployed, a refund's notification and outbox tasks are queued, not run in the request.

Afterwards the database is checked: every refund succeeded once, each has exactly one
ledger movement (one ``refund_debit`` entry, nothing else), every event was stored once as
processed, and the seller's balance is the sum of its entries and moved by exactly the sum of
the refunds' shares; otherwise the exit status is non-zero.
"""

import argparse
import http.client
import json
import os
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from urllib.parse import urlsplit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veza.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db.models import Count, Q  # noqa: E402

from bench.run import wrk  # noqa: E402
from payments.intake.webhooks import sign  # noqa: E402
from payments.ledger import ledger_differences, seller_share  # noqa: E402
from payments.models import LedgerEntry, Refund, SellerBalance, WebhookEvent  # noqa: E402
from tests.factories import UserFactory  # noqa: E402
from tests.marketplace.factories import (  # noqa: E402
    OrderFactory,
    ProductFactory,
    completed_order,
    opened_refund,
)
from veza.celery import app  # noqa: E402

PATH = "/api/v1/webhooks/hyperswitch"


def prepare(refunds: int) -> tuple[object, list[Refund], list[tuple[str, bytes]]]:
    """One seller, ``refunds`` paid orders of its product, each with a pending refund; and
    the signed delivery (event id, body) that ends each refund."""
    # The bench database outlives a run: start the factories' numbering where no run has been.
    for made in (UserFactory, ProductFactory, OrderFactory):
        made.reset_sequence(time.time_ns() // 1000)
    product = ProductFactory()
    made, deliveries = [], []
    run = uuid.uuid4().hex[:12]
    for n in range(refunds):
        order = completed_order(products=[product])
        refund = opened_refund(order, provider_refund_id=f"ref_storm_{run}_{n}")
        made.append(refund)
        event_id = f"evt_storm_{run}_{n}"
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
        deliveries.append((event_id, raw))
    return product.seller, made, deliveries


def storm(base: str, deliveries: list[tuple[str, bytes]], connections: int) -> dict:
    """Every delivery sent once, ``connections`` at a time; each one's latency."""
    url, lock = urlsplit(base), threading.Lock()
    queue = iter(list(deliveries))
    answers, latencies = Counter(), []
    gate = threading.Barrier(connections + 1)

    def client() -> None:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        gate.wait()
        while True:
            with lock:
                delivery = next(queue, None)
            if delivery is None:
                break
            _, raw = delivery
            headers = {
                "Content-Type": "application/json",
                "X-Webhook-Signature-512": sign(raw),
                "X-Forwarded-Proto": "https",
            }
            started = time.perf_counter()
            try:
                conn.request("POST", PATH, body=raw, headers=headers)
                response = conn.getresponse()
                outcome = json.loads(response.read() or b"{}").get("status", "?")
                key = f"{response.status} {outcome}"
            except (OSError, http.client.HTTPException) as exc:
                key = type(exc).__name__
                conn.close()
                conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                answers[key] += 1
                latencies.append(elapsed)
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    gate.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    latencies.sort()
    return {
        "seconds": round(seconds, 3),
        "rps": round(len(latencies) / seconds, 1),
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 2),
        "answers": dict(answers),
    }


def ceiling(base: str, connections: int, seconds: int) -> dict:
    """The bare view, with wrk as ``bench.run`` measures it (2 threads)."""
    return wrk(f"{base}/bench/ceiling", {}, seconds=seconds, threads=2, connections=connections)


def verify(
    seller, refunds: list[Refund], deliveries, balance_before: dict, answers: dict
) -> list[str]:
    """What must hold after the storm; the problems found (none when all is well)."""
    problems = []
    if answers != {"200 processed": len(deliveries)}:
        problems.append(f"answers {answers}")
    ids = [r.pk for r in refunds]
    statuses = Counter(Refund.objects.filter(pk__in=ids).values_list("status", flat=True))
    if statuses != {Refund.Status.SUCCEEDED: len(ids)}:
        problems.append(f"refund statuses {dict(statuses)}")
    moves = (
        Refund.objects.filter(pk__in=ids)
        .annotate(
            debits=Count(
                "ledger_entries", filter=Q(ledger_entries__kind=LedgerEntry.Kind.REFUND_DEBIT)
            ),
            entries=Count("ledger_entries"),
        )
        .exclude(debits=1, entries=1)
    )
    if moves.exists():
        problems.append(f"{moves.count()} refund(s) without exactly one ledger movement")
    events = WebhookEvent.objects.filter(event_id__in=[e for e, _ in deliveries])
    outcomes = Counter(events.values_list("outcome", flat=True))
    if outcomes != {"processed": len(deliveries)} or events.exclude(deliveries=1).exists():
        problems.append(f"stored events {dict(outcomes)}")
    balance = SellerBalance.objects.get(seller=seller, currency="EUR")
    expected = sum(seller_share(item.price) for r in refunds for item in r.order.items.all())
    total_before = (
        balance_before["pending"]
        + balance_before["available"]
        + balance_before["held"]
        - balance_before["debt"]
    )
    moved = total_before - balance.total
    if moved != expected:
        problems.append(
            f"the seller's balance moved by {moved}, the refunds' shares are {expected}"
        )
    seller_problems = [p for p in ledger_differences() if p["seller_id"] == str(seller.pk)]
    if seller_problems:
        problems.append(f"balance differs from its entries: {seller_problems}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--project", required=True)
    parser.add_argument("--ceiling", required=True)
    parser.add_argument("--refunds", type=int, default=500)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--ceiling-seconds", type=int, default=3)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    # A first wave, unrecorded (checked like the rest): every worker imports and connects.
    warmup = 2 * args.connections
    seller, refunds, deliveries = prepare(warmup + args.refunds)
    before = SellerBalance.objects.filter(seller=seller, currency="EUR").values().get()
    # A few warm-up requests to the bare view, then ceiling / storm / ceiling.
    ceiling(args.ceiling, args.connections, 1)
    ceiling_before = ceiling(args.ceiling, args.connections, args.ceiling_seconds)
    storm(args.project, deliveries[:warmup], args.connections)
    project = storm(args.project, deliveries[warmup:], args.connections)
    ceiling_after = ceiling(args.ceiling, args.connections, args.ceiling_seconds)
    ceiling_rps = statistics.mean([ceiling_before["rps"], ceiling_after["rps"]])
    answers = Counter(project["answers"]) + Counter({"200 processed": warmup})
    problems = verify(seller, refunds, deliveries, before, dict(answers))
    report = {
        "refunds": args.refunds,
        "connections": args.connections,
        "worker_class": os.environ.get("GUNICORN_WORKER_CLASS", "gthread"),
        "workers": os.environ.get("GUNICORN_WORKERS", "default"),
        "project": project,
        "ceiling": {"before": ceiling_before, "after": ceiling_after, "rps": ceiling_rps},
        "ratio": round(project["rps"] / ceiling_rps, 3) if ceiling_rps else None,
        "problems": problems,
    }
    with open(args.out, "w") as fh:
        json.dump(report, fh, indent=2)
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        app.control.purge()  # the tasks queued by the run (no worker consumes the bench's)
    print(
        f"{args.refunds} unique refund webhooks of one seller, {args.connections} at a time: "
        f"{project['rps']} req/s, p50 {project['p50_ms']} ms, p99 {project['p99_ms']} ms; "
        f"ceiling {ceiling_rps:.0f} req/s (ratio {report['ratio']}); answers {project['answers']}"
    )
    if problems:
        sys.exit("refund storm: " + "; ".join(problems))
    print(f"every refund succeeded once, one ledger movement each; written: {args.out}")


if __name__ == "__main__":
    main()
