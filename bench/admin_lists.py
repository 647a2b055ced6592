"""The finance changelists at a million rows: server time per page, statements per page.

    ./scripts/bench.sh --admin-lists [--rows 1000000]

Runs in-process on its own PostgreSQL database (``veza_bench_admin``, created and migrated
here). A few real rows come from the project's own paths (a paid order, its buyer, refund,
ledger entries, transfer, invoice and audit entries; a payout and a dispute); each table is
then grown to ``--rows`` rows by copying those rows inside PostgreSQL (new ids, one second
apart, statuses and kinds spread out, copy n of each row belonging to user n and order n,
unique emails, payment, provider ids and invoice numbers), so a million rows per table take
minutes rather than the services' hours. Then ``VACUUM ANALYZE``, and each page
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

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

# Pages a finance team opens: the default view, a filter, a later page, and a search by
# each thing staff search by (an email, a payment id, a provider id, an invoice number, an
# id's first characters). ``{...}`` are filled in from the rows ``build`` made.
N = 777_777  # the row searched for (row numbers are 1..ROWS; smaller runs use N % ROWS)
PAGES = {
    "refunds": "/admin/payments/refund/",
    "refunds status=succeeded": "/admin/payments/refund/?status__exact=succeeded",
    "refunds search short id": "/admin/payments/refund/?q={refund_prefix}",
    "refunds search provider id": "/admin/payments/refund/?q=ref_bench_{n}",
    "refunds search payment id": "/admin/payments/refund/?q=pay_bench_{n}",
    "refunds search buyer email": "/admin/payments/refund/?q={email}",
    "refunds page 50": "/admin/payments/refund/?p=50",
    "orders": "/admin/marketplace/order/",
    "orders status=refunded": "/admin/marketplace/order/?status__exact=refunded",
    "orders search payment id": "/admin/marketplace/order/?q=pay_bench_{n}",
    "orders search buyer email": "/admin/marketplace/order/?q={email}",
    "orders search short id": "/admin/marketplace/order/?q={order_prefix}",
    "users search email": "/admin/accounts/user/?q={email}",
    "users search email prefix": "/admin/accounts/user/?q=bench{n}",
    "users search username": "/admin/accounts/user/?q=Bench_{n}",
    "payouts search provider id": "/admin/payments/payout/?q=po_bench_{n}",
    "payouts search seller email": "/admin/payments/payout/?q={email}",
    "disputes search provider id": "/admin/payments/dispute/?q=dp_bench_{n}",
    "disputes search payment id": "/admin/payments/dispute/?q=pay_bench_{n}",
    "ledger": "/admin/payments/ledgerentry/",
    "ledger kind=adjustment": "/admin/payments/ledgerentry/?kind__exact=adjustment",
    "ledger currency=EUR": "/admin/payments/ledgerentry/?currency__exact=EUR",
    "ledger search seller email": "/admin/payments/ledgerentry/?q={email}",
    "ledger search payment id": "/admin/payments/ledgerentry/?q=pay_bench_{n}",
    "ledger search order short id": "/admin/payments/ledgerentry/?q={order_prefix}",
    "transfers search seller email": "/admin/payments/sellertransfer/?q={email}",
    "transfers search payment id": "/admin/payments/sellertransfer/?q=pay_bench_{n}",
    "invoices": "/admin/invoicing/invoice/",
    "invoices search number": "/admin/invoicing/invoice/?q={invoice_number}",
    "invoices search number prefix": "/admin/invoicing/invoice/?q={invoice_prefix}",
    "invoices search order short id": "/admin/invoicing/invoice/?q={order_prefix}",
    "audit": "/admin/audit/auditlog/",
    "audit action": "/admin/audit/auditlog/?action__exact=bench.copied",
    "audit target": "/admin/audit/auditlog/?target_id={order_id}",
    "audit search actor email": "/admin/audit/auditlog/?q={email}",
    "audit search target short id": "/admin/audit/auditlog/?q={order_prefix}",
    "audit search ip": "/admin/audit/auditlog/?q={ip}",
}


def grow(model, template, overrides: dict[str, str], source: str) -> None:
    """Copy the row ``template`` of ``model`` once per row of ``source`` (a FROM item aliased
    ``i``); ``overrides`` gives SQL for columns, in terms of ``t`` (the template) and ``i``."""
    table = model._meta.db_table
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "ORDER BY ordinal_position",
            [table],
        )
        columns = [name for (name,) in cursor.fetchall()]
        assert set(overrides) <= set(columns), set(overrides) - set(columns)
        select = ", ".join(overrides.get(name, f"t.{name}") for name in columns)
        # Table and column names come from the models, values are parameters.
        cursor.execute(
            f'INSERT INTO "{table}" ({", ".join(columns)}) SELECT {select} '  # noqa: S608
            f'FROM "{table}" t, {source} WHERE t.id = %s',
            [template.pk],
        )
    print(f"  {table}: {time.perf_counter() - started:.0f} s", flush=True)


def spread(*values: str) -> str:
    """One of ``values`` per copied row, in turn."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"(ARRAY[{quoted}])[1 + mod(i.n, {len(values)})]"


def row_id(kind: str, n: str = "i.n") -> str:
    """The id of copy ``n`` of a kind of row, known without a join: md5 of a name, as a UUID
    (so copy n of an order is the order of copy n of a refund, an invoice, a transfer)."""
    return f"md5('bench-{kind}-' || ({n}))::uuid"


def user_n(n: str = "i.n") -> str:
    """One of the copied users for row ``n`` (every user has about one row of each table)."""
    return row_id("user", n)


def build(rows: int) -> dict:
    from accounts.models import User
    from audit.models import AuditLog
    from invoicing.models import Invoice
    from invoicing.services import issue_invoice
    from marketplace.models import Order
    from payments.models import Dispute, LedgerEntry, Payout, Refund, SellerTransfer
    from tests.marketplace.factories import completed_order, opened_refund

    order = completed_order()
    refund = opened_refund(order)
    invoice = Invoice.objects.filter(order=order).first() or issue_invoice(order=order)
    payout = Payout.objects.create(
        seller=order.items.first().seller,
        amount=100,
        currency="EUR",
        status=Payout.Status.PAID,
        payout_type="bank",
        payout_token="tok_bench",
        provider_payout_id="po_bench_template",
    )
    dispute = Dispute.objects.create(
        order=order, provider_dispute_id="dp_bench_template", amount=100, currency="EUR"
    )
    series = f"generate_series(1, {int(rows)}) AS i(n)"
    ago = "now() - make_interval(secs => i.n)"
    fresh = {"id": "gen_random_uuid()", "created_at": ago}
    grow(
        User,
        order.buyer,
        {
            "id": user_n(),
            "created_at": ago,
            "email": "'bench' || i.n || '@bench.example'",
            "username": "'bench_' || i.n",
            "display_name": "'Bench Listener ' || i.n",
            "is_staff": "false",
            "is_superuser": "false",
        },
        series,
    )
    grow(
        Order,
        order,
        {
            **fresh,
            "id": row_id("order"),
            "buyer_id": user_n(),
            "hyperswitch_payment_id": "'pay_bench_' || i.n",
            "status": spread("completed", "refunded", "partially_refunded"),
        },
        series,
    )
    # One refund per copied order: never two in flight for one order.
    grow(
        Refund,
        refund,
        {
            **fresh,
            "order_id": row_id("order"),
            "requested_by_id": user_n(f"1 + mod(i.n * 7, {int(rows)})"),
            "status": spread("succeeded", "failed", "rejected"),
            "hyperswitch_refund_id": "'ref_bench_' || i.n",  # provider_refund_id
        },
        series,
    )
    grow(
        LedgerEntry,
        LedgerEntry.objects.filter(order=order).first(),
        {
            **fresh,
            "seller_id": user_n(),
            "order_id": row_id("order"),
            "kind": spread("adjustment", "debt", "payout_return"),
            "currency": spread("EUR", "USD", "JPY"),
        },
        series,
    )
    grow(
        SellerTransfer,
        SellerTransfer.objects.filter(order=order).first(),
        {**fresh, "seller_id": user_n(), "order_id": row_id("order"), "payout_id": "NULL"},
        series,
    )
    grow(
        Payout,
        payout,
        {
            **fresh,
            "seller_id": user_n(),
            "status": spread("paid", "failed", "reversed"),
            "provider_payout_id": "'po_bench_' || i.n",
        },
        series,
    )
    grow(
        Dispute,
        dispute,
        {
            **fresh,
            "order_id": row_id("order"),
            "status": spread("opened", "won", "lost"),
            "provider_dispute_id": "'dp_bench_' || i.n",
        },
        series,
    )
    grow(
        Invoice,
        invoice,
        {
            "id": row_id("invoice"),
            "issued_at": ago,
            "order_id": row_id("order"),
            "number": "'VZ-2025-' || lpad(i.n::text, 7, '0')",
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
            "actor_id": user_n(),
            "target_type": "'marketplace.order'",
            "target_id": f"({row_id('order')})::text",
            "ip_address": "('10.' || mod(i.n, 256) || '.' || mod(i.n / 256, 256) || '.' "
            "|| mod(i.n / 65536, 256))::inet",
        },
        series,
    )
    n = N % rows or rows
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {row_id('order', '%s')}::text", [n])
        (order_id,) = cursor.fetchone()
    refund_id = Refund.objects.get(provider_refund_id=f"ref_bench_{n}").pk
    return {
        "n": n,
        "email": f"bench{n}@bench.example",
        "refund_prefix": str(refund_id)[:8],
        "order_prefix": order_id[:8],
        "order_id": order_id,
        "invoice_number": f"VZ-2025-{n:07d}",
        "invoice_prefix": f"vz-2025-{n:07d}"[:-1],
        "ip": f"10.{n % 256}.{n // 256 % 256}.{n // 65536 % 256}",
    }


def measure(client: Client, url: str, repeat: int) -> dict:
    """Median server time, and median time the database took (statements timed at the
    driver: what the table's size moves, free of the machine's load on Python)."""
    times, sql_times, statements, status = [], [], 0, None
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url, secure=True)  # as behind the TLS proxy
            times.append((time.perf_counter() - started) * 1000)
        status, statements = response.status_code, len(queries.captured_queries)
        sql_times.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
    return {
        "status": status,
        "median_ms": statistics.median(times),
        "sql_ms": statistics.median(sql_times),
        "statements": statements,
    }


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
            cursor.execute("VACUUM ANALYZE")  # as autovacuum leaves a live database
        print(f"grown to {args.rows:,} rows per table in {time.perf_counter() - started:.0f} s")
        AuditLog.objects.create(action="bench.params", details=found)
    found = AuditLog.objects.filter(action="bench.params").latest("created_at").details
    admin = User.objects.filter(is_superuser=True).first() or User.objects.create_superuser(
        username="bench_admin", email="bench_admin@veza.local", password="x-bench-Password-1"
    )
    # The pages, not the sign-in: production asks staff for a second factor (a session flag
    # read by a middleware), which a forced login has not passed.
    settings.STAFF_REQUIRE_2FA = False
    client = Client()
    client.force_login(admin)
    results = {}
    print(f"| page {'':<26}| status | median ms | SQL ms | SQL |")
    print(f"|{'-' * 32}|--------|-----------|--------|-----|")
    for name, url in PAGES.items():
        measure(client, url.format(**found), 1)  # warm: caches, estimates
        row = measure(client, url.format(**found), args.repeat)
        assert row["status"] == 200, (name, row)
        results[name] = {"url": url, **row}
        ms, sql_ms, sql = row["median_ms"], row["sql_ms"], row["statements"]
        print(f"| {name:<30} | {row['status']:>6} | {ms:>9.1f} | {sql_ms:>6.1f} | {sql:>3} |")
    with open(args.out, "w") as fh:
        json.dump({"rows": args.rows, "repeat": args.repeat, "pages": results}, fh, indent=2)
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
