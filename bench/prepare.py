"""Before the load: what the scenarios need (a token, a stored webhook event to replay) and
the SQL statements each scenario costs, counted in-process on the bench database.

    python -m bench.prepare OUT.json      (same environment as the servers)
"""

import json
import os
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veza.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.tokens import issue_tokens  # noqa: E402
from payments.intake.webhooks import sign  # noqa: E402
from tracks.models import Track  # noqa: E402
from tracks.seed import demo_creators  # noqa: E402

DUPLICATE_EVENT = {
    "merchant_id": "merchant_veza",
    "event_id": "evt_bench_replayed",
    "event_type": "refund_succeeded",
    "content": {"type": "refund_details", "object": {"refund_id": "ref_bench_unknown"}},
}


def scenarios(creator: str) -> dict[str, dict]:
    tracks = "/api/v1/tracks?page_size=20"
    return {
        "tracks anonymous": {"path": tracks},
        # A listener (owns no track) gets the shared page with their likes laid over; a
        # creator who owns a private or unfinished track gets a page of their own.
        "tracks logged-in": {"path": tracks, "auth": "listener"},
        "tracks own hidden": {"path": tracks, "auth": "owner"},
        "tracks -like_count": {"path": tracks + "&ordering=-like_count"},
        "tracks -play_count": {"path": tracks + "&ordering=-play_count"},
        "tracks genre=rock": {"path": tracks + "&genre=rock"},
        "tracks creator": {"path": tracks + f"&creator={creator}"},
        "tracks q=sketch": {"path": tracks + "&q=sketch"},
        "tracks page=50": {"path": tracks + "&page=50"},
        "webhook duplicate": {"path": "/api/v1/webhooks/hyperswitch", "webhook": True},
    }


def count_statements(client: Client, spec: dict, headers: dict) -> tuple[int, int, float]:
    """Status, statements and the database's time in ms (each statement timed around its
    execution, at the driver; Django's own log keeps milliseconds only)."""
    kwargs = {"secure": True, **headers}
    spent: list[float] = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent.append(time.perf_counter() - started)

    with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(timed):
        if spec.get("webhook"):
            raw = json.dumps(DUPLICATE_EVENT).encode()
            response = client.generic(
                "POST",
                spec["path"],
                raw,
                content_type="application/json",
                HTTP_X_WEBHOOK_SIGNATURE_512=sign(raw),
                **kwargs,
            )
        else:
            response = client.get(spec["path"], **kwargs)
    return response.status_code, len(queries.captured_queries), sum(spent) * 1000


def main(out: str) -> None:
    demo = User.objects.filter(username__startswith="demo_").order_by("username")
    listener = demo.exclude(pk__in=Track.objects.values("creator")).first()
    owner = demo.filter(
        pk__in=Track.objects.exclude(is_public=True, status=Track.Status.READY).values("creator")
    ).first()
    creator = demo_creators().first()
    if listener is None or creator is None:
        sys.exit("no demo users: run `manage.py seed` first")
    tokens = {"listener": issue_tokens(listener)["access"]}
    if owner is not None:
        tokens["owner"] = issue_tokens(owner)["access"]
    body = json.dumps(DUPLICATE_EVENT).encode()
    client = Client()
    # The first delivery stores the event (an unknown refund: ignored); the load replays it.
    client.generic(
        "POST",
        "/api/v1/webhooks/hyperswitch",
        body,
        content_type="application/json",
        HTTP_X_WEBHOOK_SIGNATURE_512=sign(body),
        secure=True,
    )
    found = {
        name: spec
        for name, spec in scenarios(creator.username).items()
        if spec.get("auth") in (None, *tokens)
    }
    for spec in found.values():
        token = tokens.get(spec.get("auth"))
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        count_statements(client, spec, headers)  # warm: caches, estimates
        runs = [count_statements(client, spec, headers) for _ in range(5)]
        status, statements, _ = runs[-1]
        # The SQL time alone, free of the load's noise: what a table's size changes.
        sql_ms = round(statistics.median(run[2] for run in runs), 2)
        spec.update(status=status, statements=statements, sql_ms=sql_ms)
        if token:
            spec["headers"] = {"Authorization": f"Bearer {token}"}
        if spec.get("webhook"):
            spec["body"] = body.decode()
            spec["headers"] = {
                "Content-Type": "application/json",
                "X-Webhook-Signature-512": sign(body),
            }
    with open(out, "w") as fh:
        json.dump({"scenarios": found}, fh, indent=2)


if __name__ == "__main__":
    main(sys.argv[1])
