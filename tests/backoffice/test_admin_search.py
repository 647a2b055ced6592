"""The back-office search at a million rows: each box finds what its help text says, by exact
or prefix matches an index serves (``veza.admin_search``), in a fixed number of statements;
on PostgreSQL, the plan of every statement a search adds reads through indexes only."""

import pytest
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from audit.models import AuditLog
from invoicing.services import issue_invoice
from marketplace.models import Order
from payments.models import Dispute, LedgerEntry, Payout, Refund, SellerTransfer
from tests.factories import AdminFactory, UserFactory
from tests.marketplace.factories import completed_order
from veza.admin_search import SEARCH_LOOKUPS, IndexedSearchMixin

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _platform(settings):
    settings.INVOICE_PREFIX = "VZ"
    settings.PLATFORM_LEGAL_NAME = "Veza SAS"
    settings.PLATFORM_ADDRESS = "1 place de la Bourse, 75002 Paris, France"
    settings.PLATFORM_VAT_NUMBER = "FR40303265045"


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(AdminFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def world():
    """Two of everything, so that a search is seen to pick one."""
    rows = {}
    for key in ("a", "b"):
        order = completed_order()
        buyer = order.buyer
        User.objects.filter(pk=buyer.pk).update(
            email=f"{key}-buyer@example.test", username=f"Buyer_{key}", display_name=f"{key} Doe"
        )
        Order.objects.filter(pk=order.pk).update(hyperswitch_payment_id=f"pay_{key}Xy12")
        requester = UserFactory(email=f"{key}-finance@example.test")
        refund = Refund.objects.create(
            order=order,
            amount=order.total_amount,
            currency=order.currency,
            provider_refund_id=f"ref_{key}Zz34",
            requested_by=requester,
        )
        seller = order.items.first().seller
        payout = Payout.objects.create(
            seller=seller,
            amount=100,
            currency="EUR",
            status=Payout.Status.PAID,
            payout_type="bank",
            payout_token="tok",
            provider_payout_id=f"po_{key}Qq56",
        )
        dispute = Dispute.objects.create(
            order=order, provider_dispute_id=f"dp_{key}Ww78", amount=100, currency="EUR"
        )
        invoice = issue_invoice(order=order)
        log = AuditLog.objects.create(
            action=f"{key}test.done",
            actor=requester,
            target_type="marketplace.order",
            target_id=str(order.pk),
            ip_address=f"10.0.0.{1 if key == 'a' else 2}",
        )
        rows[key] = {
            "order": order,
            "buyer": buyer,
            "seller": seller,
            "refund": refund,
            "payout": payout,
            "dispute": dispute,
            "invoice": invoice,
            "log": log,
            "ledger": set(LedgerEntry.objects.filter(order=order).values_list("pk", flat=True)),
            "transfers": set(
                SellerTransfer.objects.filter(order=order).values_list("pk", flat=True)
            ),
        }
    return rows


def found(client: Client, url: str, term: str) -> set:
    response = client.get(url, {"q": term})
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].queryset}


def test_every_search_box_finds_what_its_help_text_says(staff, world):
    a = world["a"]
    user_ids = {a["buyer"].pk}
    assert found(staff, "/admin/accounts/user/", "A-BUYER@example.test") == user_ids
    assert found(staff, "/admin/accounts/user/", "a-buy") == user_ids
    assert found(staff, "/admin/accounts/user/", "buyer_A") == user_ids
    assert found(staff, "/admin/accounts/user/", "a do") == set()  # two words: both must match
    assert found(staff, "/admin/accounts/user/", '"a do"') == user_ids  # a quoted phrase
    assert found(staff, "/admin/accounts/user/", str(a["buyer"].pk)[:8]) == user_ids

    orders = "/admin/marketplace/order/"
    assert found(staff, orders, "pay_aXy12") == {a["order"].pk}
    assert found(staff, orders, "pay_aX") == {a["order"].pk}
    assert found(staff, orders, "a-buyer@") == {a["order"].pk}
    assert found(staff, orders, str(a["order"].pk)[:8]) == {a["order"].pk}

    refunds = "/admin/payments/refund/"
    for term in ("ref_aZz34", "pay_aXy", "a-buyer@example.test", "a-finance@", "buyer_a"):
        assert found(staff, refunds, term) == {a["refund"].pk}, term
    assert found(staff, refunds, str(a["order"].pk)[:8]) == {a["refund"].pk}

    assert found(staff, "/admin/payments/payout/", "po_aQq56") == {a["payout"].pk}
    seller_payouts = set(Payout.objects.filter(seller=a["seller"]).values_list("pk", flat=True))
    assert found(staff, "/admin/payments/payout/", a["seller"].email) == seller_payouts

    disputes = "/admin/payments/dispute/"
    for term in ("dp_aWw78", "pay_aXy12", "a-buyer@", str(a["dispute"].pk)[:8]):
        assert found(staff, disputes, term) == {a["dispute"].pk}, term

    ledger = "/admin/payments/ledgerentry/"
    assert found(staff, ledger, "pay_aXy12") == a["ledger"]
    assert found(staff, ledger, str(a["order"].pk)[:8]) == a["ledger"]
    transfers = "/admin/payments/sellertransfer/"
    assert found(staff, transfers, "pay_aXy12") == a["transfers"]

    invoices = "/admin/invoicing/invoice/"
    number = a["invoice"].number
    assert found(staff, invoices, number.lower()) == {a["invoice"].pk}
    assert found(staff, invoices, str(a["order"].pk)[:8]) == {a["invoice"].pk}
    both = {world["a"]["invoice"].pk, world["b"]["invoice"].pk}
    assert found(staff, invoices, number[:8]) == both  # VZ-2025-: every invoice of the year

    audit = "/admin/audit/auditlog/"
    assert found(staff, audit, "atest.") == {a["log"].pk}
    assert found(staff, audit, "10.0.0.1") == {a["log"].pk}
    about_order = set(
        AuditLog.objects.filter(target_id=str(a["order"].pk)).values_list("pk", flat=True)
    )
    assert a["log"].pk in about_order
    assert found(staff, audit, str(a["order"].pk)[:8]) == about_order
    assert found(staff, audit, "a-finance@example.test") == {a["log"].pk}
    assert found(staff, audit, "10.0.0.") == set()  # an address is exact, and not an action


def test_search_is_by_first_characters_not_anywhere_in_the_value(staff, world):
    """The documented trade: a prefix an index serves, not a contains that reads every row."""
    assert found(staff, "/admin/marketplace/order/", "Xy12") == set()
    assert found(staff, "/admin/accounts/user/", "buyer@example.test") == set()
    assert "first characters" in staff.get("/admin/marketplace/order/").content.decode()


def test_a_search_box_says_what_it_searches():
    for model, model_admin in admin.site._registry.items():
        if isinstance(model_admin, IndexedSearchMixin):
            assert model_admin.search_help_text, model
            for spec in model_admin.search_fields:
                assert spec.split("__")[-1] in SEARCH_LOOKUPS, (model, spec)


# Each searched page: the statements of a search are those of the page (session, user,
# filter choices, bounded count, page, the page's prefetches) — the search adds none.
SEARCHES = {
    "users email": ("/admin/accounts/user/", "a-buyer@example.test", 4),
    "orders payment id": ("/admin/marketplace/order/", "pay_aXy12", 6),
    "orders buyer email": ("/admin/marketplace/order/", "a-buyer@", 6),
    "refunds provider id": ("/admin/payments/refund/", "ref_aZz34", 5),
    "refunds payment id": ("/admin/payments/refund/", "pay_aXy12", 5),
    "refunds requester email": ("/admin/payments/refund/", "a-finance@", 5),
    "refunds short id": ("/admin/payments/refund/", "{order}", 5),
    "payouts provider id": ("/admin/payments/payout/", "po_aQq56", 6),
    "disputes provider id": ("/admin/payments/dispute/", "dp_aWw78", 5),
    "ledger payment id": ("/admin/payments/ledgerentry/", "pay_aXy12", 6),
    "ledger seller email": ("/admin/payments/ledgerentry/", "{seller}", 6),
    "transfers payment id": ("/admin/payments/sellertransfer/", "pay_aXy12", 6),
    "invoices number": ("/admin/invoicing/invoice/", "{number}", 6),
    "audit actor email": ("/admin/audit/auditlog/", "a-finance@", 8),
    "audit ip": ("/admin/audit/auditlog/", "10.0.0.1", 8),
}


def search_term(world, template: str) -> str:
    a = world["a"]
    return template.format(
        order=str(a["order"].pk)[:8], seller=a["seller"].email, number=a["invoice"].number
    )


def statements(client: Client, url: str, term: str | None = None) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"q": term} if term else {})
    assert response.status_code == 200
    if term:
        assert response.context["cl"].result_count >= 1
    return [query["sql"] for query in queries.captured_queries]


@pytest.mark.parametrize("search", SEARCHES)
def test_search_statements_are_exact(staff, world, search):
    url, template, expected = SEARCHES[search]
    sql = statements(staff, url, search_term(world, template))
    assert len(sql) == expected, "\n".join(sql)
    assert len(statements(staff, url)) == expected  # the same as the page without a search


@pytest.mark.skipif(connection.vendor != "postgresql", reason="plans are PostgreSQL's")
@pytest.mark.parametrize("search", SEARCHES)
def test_every_statement_a_search_adds_reads_through_indexes(staff, world, search):
    """With sequential scans priced out (``enable_seqscan = off``), a condition no index
    can serve still shows a Seq Scan: none may appear in the statements the search adds —
    on a tiny test table the planner would scan anyway, at a million rows it must not."""
    url, template, _ = SEARCHES[search]
    plain = set(statements(staff, url))
    searched = [s for s in statements(staff, url, search_term(world, template)) if s not in plain]
    assert searched, "the search changed no statement"
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            for sql in searched:
                cursor.execute(f"EXPLAIN {sql}")
                plan = "\n".join(line for (line,) in cursor.fetchall())
                assert "Seq Scan" not in plan, f"{sql}\n{plan}"
        finally:
            cursor.execute("SET enable_seqscan = on")
