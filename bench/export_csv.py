"""How long the admin's streamed CSV exports of ledger entries and invoices take at N rows.

Creates a throwaway test database (Django's ``test_<name>``, destroyed afterwards unless
``--keepdb``), bulk-inserts ``--rows`` ledger entries for a handful of sellers and ``--rows``
invoices (one per order, two currencies), then downloads
``/admin/payments/ledgerentry/export.csv`` and ``/admin/invoicing/invoice/export.csv``
through the Django test client as a superuser, reading the whole stream, and prints the
time, the rows, the bytes, the largest growth of this process's memory while streaming
(tracemalloc peak, in a last round of its own: tracing slows Python) and the SQL
statements. ``--profile`` runs one export of each under
cProfile and prints where the time goes. A measurement, not a test: nothing is asserted.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/veza_bench_export APP_ENV=test \\
        .venv/bin/python -m bench.export_csv --rows 200000 [--rounds 3] [--keepdb] [--profile]
"""

import argparse
import cProfile
import io
import os
import pstats
import time
import tracemalloc

URLS = {
    "ledger": "/admin/payments/ledgerentry/export.csv",
    "invoices": "/admin/invoicing/invoice/export.csv",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--sellers", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=sorted(URLS), help="one export instead of both")
    parser.add_argument("--query", default="", help="filters, e.g. kind__exact=adjustment")
    parser.add_argument("--keepdb", action="store_true", help="keep (and reuse) the database")
    parser.add_argument("--profile", action="store_true", help="cProfile one export of each")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veza.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()
    settings.STAFF_REQUIRE_2FA = False  # the export, not the sign-in
    old_name = connection.creation.create_test_db(
        verbosity=0, autoclobber=True, keepdb=args.keepdb, serialize=False
    )
    try:
        client = prepare(args.rows, args.sellers)
        names = [args.only] if args.only else list(URLS)
        # The timed rounds, then one round with tracemalloc (it slows Python down).
        for round_ in [*range(args.rounds), "memory"]:
            for name in names:
                url = URLS[name] + (f"?{args.query}" if args.query else "")
                traced = round_ == "memory"
                wall, cpu, rows, size, peak, statements = export(client, url, traced)
                print(
                    f"{connection.vendor}, {name}: {rows:,} rows (+ header and totals), "
                    f"{size / 1e6:.1f} MB in {wall:.2f} s (this process's CPU: {cpu:.2f} s), "
                    f"{statements} statements"
                    + (f", memory peak while streaming {peak / 1e6:.1f} MB (traced)" * traced),
                    flush=True,
                )
        if args.profile:
            for name in names:
                profile(client, URLS[name])
    finally:
        if not args.keepdb:
            connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


def prepare(count: int, sellers: int):
    from django.test import Client

    from accounts.models import User
    from invoicing.models import Invoice
    from payments.models import LedgerEntry

    admin = User.objects.filter(email="admin@bench.test").first()
    if admin is None:
        admin = User.objects.create_superuser(email="admin@bench.test", username="bench_admin")
    people = list(User.objects.filter(email__endswith="@seller.bench.test"))
    if not people:
        people = [
            User.objects.create_user(email=f"s{n}@seller.bench.test", username=f"bench_s{n}")
            for n in range(sellers)
        ]
    if LedgerEntry.objects.count() < count:
        insert_ledger(count, people)
    if Invoice.objects.count() < count:
        insert_invoices(count, people)
    from django.db import connection

    with connection.cursor() as cursor:  # as autovacuum leaves a live database
        cursor.execute("VACUUM ANALYZE")
    client = Client()
    client.force_login(admin)
    return client


def insert_ledger(count: int, people: list) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from payments.models import LedgerEntry

    start = timezone.now() - timedelta(days=365)
    kinds = [LedgerEntry.Kind.SALE_CREDIT, LedgerEntry.Kind.ADJUSTMENT]
    made = time.perf_counter()
    for first in range(0, count, 5_000):
        batch = []
        for n in range(first, min(first + 5_000, count)):
            amount = 100 + n % 9_000
            batch.append(
                LedgerEntry(
                    seller=people[n % len(people)],
                    kind=kinds[n % 2],
                    currency="EUR" if n % 10 else "USD",
                    requested_amount=amount,
                    applied_amount=amount,
                    pending_delta=amount,
                    balance_after=amount * 3,
                    created_at=start + timedelta(seconds=n * 60),
                )
            )
        LedgerEntry.objects.bulk_create(batch)
    print(f"inserted {count:,} ledger entries in {time.perf_counter() - made:.1f} s", flush=True)


def insert_invoices(count: int, people: list) -> None:
    """One paid order and its invoice per row, as issued (parties frozen in JSON)."""
    from datetime import timedelta

    from django.utils import timezone

    from invoicing.models import Invoice, InvoiceKind
    from marketplace.models import Order

    start = timezone.now() - timedelta(days=365)
    made = time.perf_counter()
    seller = {"name": "Veza bench", "address": "Nowhere", "vat_number": "FR00000000000"}
    for first in range(0, count, 5_000):
        orders, invoices = [], []
        for n in range(first, min(first + 5_000, count)):
            buyer = people[n % len(people)]
            currency = "EUR" if n % 10 else "USD"
            net = 100 + n % 9_000
            vat = net // 5
            orders.append(
                Order(
                    buyer=buyer,
                    status=Order.Status.COMPLETED,
                    net_amount=net,
                    vat_amount=vat,
                    total_amount=net + vat,
                    currency=currency,
                    hyperswitch_payment_id=f"pay_export_{n}",
                )
            )
            invoices.append(
                Invoice(
                    number=f"VZ-2025-{n + 1:07d}",
                    kind=InvoiceKind.INVOICE,
                    year=2025,
                    order=orders[-1],
                    issued_at=start + timedelta(seconds=n * 60),
                    seller=seller,
                    buyer={
                        "name": buyer.username,
                        "email": buyer.email,
                        "country": "FR",
                        "vat_number": "",
                    },
                    net_total=net,
                    vat_total=vat,
                    gross_total=net + vat,
                    currency=currency,
                    tax_country="FR",
                )
            )
        Order.objects.bulk_create(orders)
        Invoice.objects.bulk_create(invoices)
    print(f"inserted {count:,} orders and invoices in {time.perf_counter() - made:.1f} s")


def export(client, url: str, traced: bool) -> tuple[float, float, int, int, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if traced:
        tracemalloc.start()
    began, cpu = time.perf_counter(), time.process_time()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        lines = size = 0
        for chunk in response.streaming_content:
            size += len(chunk)
            lines += chunk.count(b"\n")
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    peak = 0
    if traced:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    totals = 2  # two currencies: one TOTAL row each
    return wall, cpu, lines - 1 - totals, size, peak, len(queries.captured_queries)


def profile(client, url: str) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    response = client.get(url)
    for _ in response.streaming_content:
        pass
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
    print(f"== profile of {url}\n{out.getvalue()}")


if __name__ == "__main__":
    main()
