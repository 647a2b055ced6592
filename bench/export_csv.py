"""How long the admin's streamed CSV export of ledger entries takes at N rows.

Creates a throwaway test database (Django's ``test_<name>``, destroyed afterwards), bulk-inserts
``--rows`` ledger entries for a handful of sellers, then downloads
``/admin/payments/ledgerentry/export.csv`` through the Django test client as a superuser,
reading the whole stream, and prints the time, the rows and the bytes. A measurement, not a
test: nothing is asserted.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/veza_office APP_ENV=test \\
        .venv/bin/python -m bench.export_csv --rows 200000 [--model-rows] [--rounds 3]
"""

import argparse
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--sellers", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--query", default="", help="filters, e.g. kind__exact=adjustment")
    parser.add_argument(
        "--model-rows", action="store_true", help="also time reading model instances (slower)"
    )
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veza.settings")
    import django

    django.setup()
    from django.contrib import admin
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    from payments.models import LedgerEntry

    ledger_admin = admin.site._registry[LedgerEntry]
    modes = [("values", ledger_admin.export_fields)]
    if args.model_rows:
        modes.append(("model rows", ()))
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        client = prepare(args.rows, args.sellers)
        url = "/admin/payments/ledgerentry/export.csv" + (f"?{args.query}" if args.query else "")
        for _ in range(args.rounds):
            for label, fields in modes:
                ledger_admin.export_fields = fields
                wall, cpu, rows, size = export(client, url)
                print(
                    f"{connection.vendor}, {label}: {rows:,} ledger rows (+ header and totals), "
                    f"{size / 1e6:.1f} MB in {wall:.2f} s (this process's CPU: {cpu:.2f} s)"
                )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


def prepare(count: int, sellers: int):
    from datetime import timedelta

    from django.test import Client
    from django.utils import timezone

    from accounts.models import User
    from payments.models import LedgerEntry

    people = [
        User.objects.create_user(email=f"seller{n}@bench.test", username=f"bench_seller{n}")
        for n in range(sellers)
    ]
    start = timezone.now() - timedelta(days=365)
    kinds = [LedgerEntry.Kind.SALE_CREDIT, LedgerEntry.Kind.ADJUSTMENT]
    batch = []
    made = time.perf_counter()
    for n in range(count):
        amount = 100 + n % 9_000
        batch.append(
            LedgerEntry(
                seller=people[n % sellers],
                kind=kinds[n % 2],
                currency="EUR" if n % 10 else "USD",
                requested_amount=amount,
                applied_amount=amount,
                pending_delta=amount,
                balance_after=amount * 3,
                created_at=start + timedelta(seconds=n * 60),
            )
        )
        if len(batch) == 5_000:
            LedgerEntry.objects.bulk_create(batch)
            batch = []
    LedgerEntry.objects.bulk_create(batch)
    print(f"inserted {count:,} ledger entries in {time.perf_counter() - made:.1f} s")
    admin = User.objects.create_superuser(email="admin@bench.test", username="bench_admin")
    client = Client()
    client.force_login(admin)
    return client


def export(client, url: str) -> tuple[float, float, int, int]:
    began, cpu = time.perf_counter(), time.process_time()
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    lines = size = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n")
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    return wall, cpu, lines - 1 - 2, size  # minus the header and the two TOTAL rows


if __name__ == "__main__":
    main()
