"""Before the load: what the scenarios need (tokens, a stored webhook event to replay, the
checkout's buyer and its paid orders, reports in the moderators' queue, a user with several
sessions) and the SQL statements each scenario costs, counted in-process on the bench database.

    python -m bench.prepare OUT.json      (same environment as the servers)

Everything is made through the project's own services (``place_order`` against the bench's
fake provider, ``apply_payment_status`` as the payment webhook does, ``submit_report``,
``start_session``), idempotently: a second run tops up what is missing.
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
from accounts.sessions import live_sessions, start_session  # noqa: E402
from accounts.tokens import issue_tokens  # noqa: E402
from marketplace.models import Order, Product  # noqa: E402
from marketplace.seed import demo_sellers  # noqa: E402
from moderation import services as moderation  # noqa: E402
from moderation.models import Category, Report, TargetType  # noqa: E402
from payments.checkout import apply_payment_status, place_order  # noqa: E402
from payments.intake.webhooks import sign  # noqa: E402
from tracks.models import Track  # noqa: E402
from tracks.seed import demo_creators  # noqa: E402

# The checkout's own users (not ``demo_``: the seed gives demo users playlists and likes).
BUYER = "bench_buyer"  # places an order per POST /orders request; its pending orders pile up
CUSTOMER = "bench_customer"  # a few paid orders: GET /orders/{id}, GET /invoices
SESSIONS_USER = "bench_sessions"  # several live sessions: GET /auth/sessions
PAID_ORDERS = 5  # the customer's, two items each: a page of invoices, each with two lines
SESSIONS = 10
QUEUED_REPORTS = 20  # open reports in the moderators' queue (a page is 20)

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


def checkout_scenarios(*, product, order) -> dict[str, dict]:
    """The path that earns the money, and the reads added since: each needs its own users."""
    return {
        # Every request places a new pending order of one product and creates its payment at
        # the fake provider; nothing forbids a buyer a second pending order of one product.
        "orders create": {
            "path": "/api/v1/marketplace/orders",
            "body": json.dumps({"items": [{"product_id": str(product.pk)}]}),
            "auth": "buyer",
        },
        "order detail": {"path": f"/api/v1/marketplace/orders/{order.pk}", "auth": "customer"},
        "invoices": {"path": "/api/v1/invoices", "auth": "customer"},
        "moderation queue": {"path": "/api/v1/admin/moderation/reports", "auth": "moderator"},
        "sessions": {"path": "/api/v1/auth/sessions", "auth": "sessions"},
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
        elif spec.get("body") is not None:
            response = client.post(
                spec["path"], spec["body"], content_type="application/json", **kwargs
            )
        else:
            response = client.get(spec["path"], **kwargs)
    return response.status_code, len(queries.captured_queries), sum(spent) * 1000


def bench_user(username: str, **fields) -> User:
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"email": f"{username}@veza.local", "email_verified": True, **fields},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def products_for_sale(*, count: int) -> list[Product]:
    products = Product.objects.filter(
        seller__in=demo_sellers(), is_active=True, taken_down_at__isnull=True, currency="EUR"
    ).order_by("title")
    return list(products[:count])


def paid_orders(customer: User, products: list[Product]) -> Order:
    """The customer's paid orders (two items each, an invoice each), placed through the
    provider and completed as the payment webhook completes them; the newest."""
    paid = Order.objects.filter(buyer=customer, status=Order.Status.COMPLETED)
    for _ in range(PAID_ORDERS - paid.count()):
        order, _payment = place_order(buyer=customer, product_ids=[p.pk for p in products[:2]])
        order.refresh_from_db()
        outcome, _order = apply_payment_status(
            payment_id=order.hyperswitch_payment_id, succeeded=True
        )
        if outcome != "processed":
            sys.exit(f"the bench order {order.pk} was not completed: {outcome}")
    return paid.order_by("-created_at").first()


def queued_reports(reporters: list[User]) -> None:
    """Open reports on public tracks from signed-in and anonymous reporters."""
    missing = QUEUED_REPORTS - Report.objects.filter(status=Report.Status.RECEIVED).count()
    if missing <= 0:
        return
    tracks = list(
        Track.objects.filter(is_public=True, status=Track.Status.READY).order_by("created_at")[
            :missing
        ]
    )
    for index, track in enumerate(tracks):
        reporter = reporters[index % len(reporters)] if index % 3 else None
        moderation.submit_report(
            reporter=reporter,
            target_type=TargetType.TRACK,
            target_id=track.pk,
            category=Category.SPAM,
            description="Bench: the description advertises a download site.",
            reporter_email="" if reporter else f"bench-{index}@reporter.invalid",
        )


def checkout_tokens() -> tuple[dict[str, str], dict[str, dict]]:
    """Tokens and scenarios of the checkout and its reads; none when the seed sells nothing."""
    products = products_for_sale(count=2)
    moderator = User.objects.filter(username="staff_moderator").first()
    if len(products) < 2 or moderator is None:
        return {}, {}
    buyer = bench_user(BUYER, country="FR")
    customer = bench_user(CUSTOMER, country="DE")
    order = paid_orders(customer, products)
    queued_reports([buyer, customer])
    sessions_user = bench_user(SESSIONS_USER)
    for _ in range(SESSIONS - 1 - live_sessions(user=sessions_user).count()):
        start_session(user=sessions_user)
    tokens = {
        "buyer": issue_tokens(buyer)["access"],
        "customer": issue_tokens(customer)["access"],
        "moderator": issue_tokens(moderator)["access"],
        "sessions": issue_tokens(sessions_user)["access"],
    }
    return tokens, checkout_scenarios(product=products[0], order=order)


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
    checkout, more = checkout_tokens()
    tokens.update(checkout)
    found = {
        name: spec
        for name, spec in {**scenarios(creator.username), **more}.items()
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
        if spec.get("body") is not None and not spec.get("webhook"):
            spec["headers"]["Content-Type"] = "application/json"
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
