"""Dates read the same everywhere in the back-office: the hand-built tables of a refund's and
an order's page show them as Django's lists and detail fields do, never as raw ISO text."""

import re

import pytest
from django.contrib.admin.utils import display_for_value

from payments.models import LedgerEntry
from tests.backoffice.test_admin_console import staff_client
from tests.marketplace.factories import completed_order, opened_refund

pytestmark = pytest.mark.django_db

RAW_TIMESTAMP = re.compile(r"\+00:00|\d{2}:\d{2}:\d{2}\.\d{6}|\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def as_the_admin_shows(moment) -> str:
    """A date as a changelist cell shows it (the admin's own rendering)."""
    return display_for_value(moment, "-")


@pytest.fixture
def refunded_order(psp, post_webhook):
    order = completed_order()
    refund = opened_refund(order, provider_refund_id="ref_dates")
    post_webhook({"event_type": "refund_succeeded", "refund_id": "ref_dates"})
    order.refresh_from_db()
    return order, refund


def test_the_refund_and_order_pages_show_no_raw_timestamps(refunded_order):
    order, refund = refunded_order
    client, _ = staff_client("Finance")
    for url in (
        f"/admin/payments/refund/{refund.pk}/change/",
        f"/admin/marketplace/order/{order.pk}/change/",
    ):
        page = client.get(url).content.decode()
        assert not RAW_TIMESTAMP.search(page), (url, RAW_TIMESTAMP.search(page).group())


def test_a_date_reads_the_same_in_the_lists_and_on_the_pages(refunded_order):
    order, refund = refunded_order
    client, _ = staff_client("Finance")
    paid = as_the_admin_shows(order.completed_at)
    order_list = client.get("/admin/marketplace/order/").content.decode()
    order_page = client.get(f"/admin/marketplace/order/{order.pk}/change/").content.decode()
    refund_page = client.get(f"/admin/payments/refund/{refund.pk}/change/").content.decode()
    assert paid in order_list and paid in order_page
    assert f"paid {paid}" in refund_page  # the refund page's one-line order summary

    debit = LedgerEntry.objects.filter(refund=refund).latest("created_at")
    entered = as_the_admin_shows(debit.created_at)
    ledger_list = client.get(f"/admin/payments/ledgerentry/?order__id__exact={order.pk}")
    assert entered in ledger_list.content.decode()
    assert entered in refund_page and entered in order_page  # their ledger tables
