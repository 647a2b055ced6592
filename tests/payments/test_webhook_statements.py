"""What a signed webhook costs in SQL: a replay is one UPDATE, a unique terminal refund 18
statements and its transaction, each of them named, the hot locks last."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from invoicing.models import InvoiceKind, InvoiceSeries
from payments.models import LedgerEntry, Refund, WebhookEvent
from tests.payments.test_refund_webhooks import envelope, pending_refund  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _credit_notes_of_the_year_already_numbered():
    """The steady state: this year's credit-note series exists (its first document of the
    year also inserts the series row, once a year)."""
    from django.utils import timezone

    InvoiceSeries.objects.create(kind=InvoiceKind.CREDIT_NOTE, year=timezone.now().year)


def succeeded(refund: Refund, event_id: str = "evt_1") -> dict:
    return envelope(
        "refund_succeeded",
        {"refund_id": refund.provider_refund_id, "status": "succeeded"},
        event_id=event_id,
    )


# The unique terminal delivery, statement by statement, inside its transaction (which the
# replay check precedes): in production BEGIN and COMMIT around it, inside a test's own
# transaction a SAVEPOINT and its RELEASE. The hot locks come last: the seller's balance row
# (every sale, refund and dispute of that seller queues on it) from its SELECT … FOR UPDATE to
# the commit, seven statements (twelve before); the credit notes' series (every refund of
# every seller queues on it) for three (eight before).
UNIQUE_REFUND_DELIVERY = [
    "UPDATE payments_webhookevent",  # a replay? no row has this event_id yet (no lock taken)
    "SELECT refunds",  # the refund and its order, locked by one SELECT ... FOR UPDATE
    "UPDATE refunds",  # → succeeded
    "SELECT marketplace_orderitem",  # every item of the order, flagged when refunded now
    "UPDATE marketplace_orderitem",  # the refunded items
    "UPDATE marketplace_license",  # their licences revoked
    "UPDATE marketplace_order",  # → refunded / partially_refunded, refunded_amount
    "SELECT invoicing_invoiceline",  # the order's invoice lines (and a credit note already?)
    "INSERT audit_auditlog",  # refund.succeeded
    "INSERT developer_outboxevent",  # refund.succeeded, its audience from the items above
    "INSERT payments_webhookevent",  # the claim, with its outcome (UNIQUE event_id)
    # The last writes (payments.last_writes), everything they need read and computed above:
    "SELECT payments_sellerbalance",  # the sellers' balances, locked in primary-key order
    "UPDATE payments_sellerbalance",  # all of them, one CASE per column
    "INSERT payments_ledgerentry",  # every seller's entries (refund_debit, debt)
    "UPDATE payments_sellertransfer",  # each seller's transfer reduced, reversed at zero
    "UPDATE invoicing_invoiceseries",  # the credit notes' next number: locked, +1, returned
    "INSERT invoicing_invoice",  # the credit note
    "INSERT invoicing_invoiceline",  # its lines, the invoice's negated
]
BALANCE_LOCK = UNIQUE_REFUND_DELIVERY.index("SELECT payments_sellerbalance")


def shape(sql: str) -> str:
    """``VERB table`` of a statement: what it does, to what."""
    words = sql.replace('"', "").split()
    verb = words[0]
    if verb in ("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"):
        return verb
    if verb == "SELECT":
        outer_from = len(words) - 1 - words[::-1].index("FROM")  # after any subquery's
        return f"SELECT {words[outer_from + 1]}"
    if verb == "INSERT":
        return f"INSERT {words[2]}"
    return f"{verb} {words[1]}"


def test_unique_terminal_refund_delivery_is_18_statements_in_a_transaction(
    pending_refund,  # noqa: F811
    post_webhook,
):
    with CaptureQueriesContext(connection) as queries:
        response = post_webhook(succeeded(pending_refund))
    assert response.status_code == 200
    assert response.json() == {"status": "processed"}
    pending_refund.refresh_from_db()
    assert pending_refund.status == Refund.Status.SUCCEEDED
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND_DEBIT).count() == 1
    statements = [q["sql"] for q in queries.captured_queries]
    # 20, of which the transaction's 2. Below 20 it is not the ORM's overhead any more: each
    # table written costs one statement (refund, items, licences, order, balances, ledger,
    # transfers, series, credit note, its lines, audit, outbox, event: 13), the refund+order
    # lock is one read, the items (which ones, whose money) another, the balances a locking
    # read of their own (a balance's new amounts depend on what it holds, so they are
    # computed on the locked row, not blindly in SQL), the invoice's lines a read, and the
    # replay check is the UPDATE that a replay costs. The series is locked, numbered and read
    # by one UPDATE … RETURNING (no gap, no duplicate).
    expected = [UNIQUE_REFUND_DELIVERY[0], "SAVEPOINT", *UNIQUE_REFUND_DELIVERY[1:], "RELEASE"]
    assert [shape(sql) for sql in statements] == expected, "\n".join(statements)
    assert len(statements) == 20


@pytest.mark.django_db(transaction=True)
def test_unique_terminal_refund_delivery_outside_a_test_transaction_is_20_statements(
    pending_refund,  # noqa: F811
    post_webhook,
):
    """As in production: the webhook's transaction is a real one, whose BEGIN and COMMIT
    Django counts as statements too."""
    with CaptureQueriesContext(connection) as queries:
        response = post_webhook(succeeded(pending_refund, event_id="evt_prod"))
    assert response.json() == {"status": "processed"}
    statements = [q["sql"] for q in queries.captured_queries]
    # What follows the COMMIT is the tasks it enqueued (the notification, the outbox's
    # dispatch), run in the request only because tests run Celery eagerly.
    statements = statements[: [shape(sql) for sql in statements].index("COMMIT") + 1]
    expected = [UNIQUE_REFUND_DELIVERY[0], "BEGIN", *UNIQUE_REFUND_DELIVERY[1:], "COMMIT"]
    assert [shape(sql) for sql in statements] == expected, "\n".join(statements)
    assert len(statements) == 20
    if connection.vendor == "postgresql":
        assert statements[2].endswith('FOR UPDATE OF "refunds", "marketplace_order"')
        # The balance lock is held for the last seven statements and the commit.
        assert statements[1 + BALANCE_LOCK].endswith("FOR UPDATE")
        assert len(statements) - (1 + BALANCE_LOCK) == 8


def test_replayed_delivery_is_one_update_and_counted_on_the_event(
    pending_refund,  # noqa: F811
    post_webhook,
    django_assert_max_num_queries,
):
    assert post_webhook(succeeded(pending_refund)).status_code == 200

    with django_assert_max_num_queries(1) as queries:
        replay = post_webhook(succeeded(pending_refund))
    assert replay.status_code == 200
    assert replay.json() == {"status": "duplicate"}
    assert queries.captured_queries[0]["sql"].startswith("UPDATE")
    assert post_webhook(succeeded(pending_refund)).json() == {"status": "duplicate"}

    event = WebhookEvent.objects.get(event_id="evt_1")
    assert event.outcome == "processed"
    assert event.deliveries == 3
    assert event.last_delivered_at is not None
    assert WebhookEvent.objects.count() == 1
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND_DEBIT).count() == 1


def test_first_delivery_counts_one(pending_refund, post_webhook):  # noqa: F811
    post_webhook(succeeded(pending_refund, event_id="evt_once"))
    assert WebhookEvent.objects.get(event_id="evt_once").deliveries == 1
