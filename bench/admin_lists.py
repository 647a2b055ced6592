"""The finance changelists at a million rows: server time per page, statements per page.

    ./scripts/bench.sh --admin-lists [--rows 1000000]

Runs in-process on its own PostgreSQL database (``veza_bench_admin``, created and migrated
here). A few real rows come from the project's own paths (a paid order, its refund, its
ledger entries and audit entries); each table is then grown to ``--rows`` rows by copying
those rows inside PostgreSQL (new ids, one second apart, statuses and kinds spread out), so
a million rows take a minute rather than the services' hours. Then ``ANALYZE``, and each page
is requested ``--repeat`` times by a superuser through Django's test client: the median of
the server time (the WSGI handler, no network) and the statements of the last request.
"""

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veza.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

# Pages a finance team opens: the default view, a filter, a search, a later page.
PAGES = {
    "refunds": "/admin/payments/refund/",
    "refunds status=succeeded": "/admin/payments/refund/?status__exact=succeeded",
    "refunds search short id": "/admin/payments/refund/?q={refund_prefix}",
    "refunds page 50": "/admin/payments/refund/?p=50",
    "orders": "/admin/marketplace/order/",
    "orders status=refunded": "/admin/marketplace/order/?status__exact=refunded",
    "orders search payment id": "/admin/marketplace/order/?q=pay_bench_777",
    "ledger": "/admin/payments/ledgerentry/",
    "ledger kind=adjustment": "/admin/payments/ledgerentry/?kind__exact=adjustment",
    "ledger currency=EUR": "/admin/payments/ledgerentry/?currency__exact=EUR",
    "audit": "/admin/audit/auditlog/",
    "audit action": "/admin/audit/auditlog/?action__exact=bench.copied",
    "audit target": "/admin/audit/auditlog/?target_id={order_id}",
}


def grow(model, template, overrides: dict[str, str], source: str) -> None:
    """Copy the row ``template`` of ``model`` once per row of ``source`` (a FROM item aliased
    ``i``); ``overrides`` gives SQL for columns, in terms of ``t`` (the template) and ``i``."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "ORDER BY ordinal_position",
            [table],
        )
        columns = [name for (name,) in cursor.fetchall()]
        select = ", ".join(overrides.get(name, f"t.{name}") for name in columns)
        # Table and column names come from the models, values are parameters.
        cursor.execute(
            f'INSERT INTO "{table}" ({", ".join(columns)}) SELECT {select} '  # noqa: S608
            f'FROM "{table}" t, {source} WHERE t.id = %s',
            [template.pk],
        )


def spread(*values: str) -> str:
    """One of ``values`` per copied row, in turn."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"(ARRAY[{quoted}])[1 + mod(i.n, {len(values)})]"


def build(rows: int) -> dict:
    from audit.models import AuditLog
    from marketplace.models import Order
    from payments.models import LedgerEntry, Refund
    from tests.marketplace.factories import completed_order, opened_refund

    order = completed_order()
    refund = opened_refund(order)
    series = f"generate_series(1, {int(rows)}) AS i(n)"
    ago = "now() - make_interval(secs => i.n)"
    fresh = {"id": "gen_random_uuid()", "created_at": ago}
    grow(
        Order,
        order,
        {
            **fresh,
            "hyperswitch_payment_id": "'pay_bench_' || i.n",
            "status": spread("completed", "refunded", "partially_refunded"),
        },
        series,
    )
    # One refund per copied order: never two in flight for one order.
    orders = Order._meta.db_table
    copied_orders = (
        "(SELECT id, row_number() OVER (ORDER BY created_at DESC) AS n "  # noqa: S608
        f"FROM \"{orders}\" WHERE hyperswitch_payment_id LIKE 'pay_bench_%%') AS i"
    )
    grow(
        Refund,
        refund,
        {
            **fresh,
            "order_id": "i.id",
            "status": spread("succeeded", "failed", "rejected"),
            "provider_refund_id": "'ref_bench_' || i.n",
        },
        copied_orders,
    )
    grow(
        LedgerEntry,
        LedgerEntry.objects.filter(order=order).first(),
        {
            **fresh,
            "kind": spread("adjustment", "debt", "payout_return"),
            "currency": spread("EUR", "USD", "JPY"),
        },
        series,
    )
    log = AuditLog.objects.create(action="bench.copied", target_type="order", target_id=order.pk)
    grow(
        AuditLog,
        log,
        {
            **fresh,
            "action": spread("bench.copied", "refund.requested", "admin.change"),
            "target_id": "i.n::text",
        },
        series,
    )
    return {"refund_prefix": str(refund.pk)[:8], "order_id": str(order.pk)}


def measure(client: Client, url: str, repeat: int) -> dict:
    times, statements, status = [], 0, None
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url, secure=True)  # as behind the TLS proxy
            times.append((time.perf_counter() - started) * 1000)
        status, statements = response.status_code, len(queries.captured_queries)
    return {"status": status, "median_ms": statistics.median(times), "statements": statements}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("admin-lists bench needs PostgreSQL (DATABASE_URL)")
    call_command("migrate", verbosity=0)
    from accounts.models import User
    from audit.models import AuditLog

    if not AuditLog.objects.filter(action="bench.copied").exists():
        started = time.perf_counter()
        with transaction.atomic():  # all or nothing: a failed run leaves no half table
            found = build(args.rows)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"grown to {args.rows:,} rows per table in {time.perf_counter() - started:.0f} s")
        AuditLog.objects.create(action="bench.params", details=found)
    found = AuditLog.objects.filter(action="bench.params").latest("created_at").details
    admin = User.objects.filter(is_superuser=True).first() or User.objects.create_superuser(
        username="bench_admin", email="bench_admin@veza.local", password="x-bench-Password-1"
    )
    client = Client()
    client.force_login(admin)
    results = {}
    print(f"| page {'':<26}| status | median ms | SQL |")
    print(f"|{'-' * 32}|--------|-----------|-----|")
    for name, url in PAGES.items():
        measure(client, url.format(**found), 1)  # warm: caches, estimates
        row = measure(client, url.format(**found), args.repeat)
        results[name] = {"url": url, **row}
        ms, sql = row["median_ms"], row["statements"]
        print(f"| {name:<30} | {row['status']:>6} | {ms:>9.1f} | {sql:>3} |")
    with open(args.out, "w") as fh:
        json.dump({"rows": args.rows, "repeat": args.repeat, "pages": results}, fh, indent=2)
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
