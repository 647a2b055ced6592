"""A refund's and an order's timeline; sync messages that say what happened; bulk sync on
the worker; stuck refunds oldest first."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditLog
from marketplace.models import Order
from payments.models import Refund
from tests.backoffice.test_admin_console import staff_client
from tests.marketplace.factories import completed_order, opened_refund

pytestmark = pytest.mark.django_db


def test_a_refunds_timeline_holds_audit_webhook_and_ledger_entries_in_order(psp, post_webhook):
    client, _ = staff_client("Finance")
    order = completed_order()
    refund = opened_refund(order, provider_refund_id="ref_t1")
    Order.objects.filter(pk=order.pk).update(status=Order.Status.REFUND_PENDING)
    post_webhook({"event_type": "refund_succeeded", "refund_id": "ref_t1"})

    page = client.get(f"/admin/payments/refund/{refund.pk}/change/").content.decode()

    timeline = page[page.lower().index("everything that happened") :]
    positions = [
        timeline.index(x) for x in ("refund_succeeded", "refund.succeeded", "Refund debit")
    ]
    assert all(p > 0 for p in positions)
    order_page = client.get(f"/admin/marketplace/order/{order.pk}/change/").content.decode()
    assert "Sale credit" in order_page and "refund_succeeded" in order_page


def test_syncing_a_finished_refund_says_nothing_was_synced(psp):
    client, _ = staff_client("Finance")
    order = completed_order()
    refund = Refund.objects.create(
        order=order, amount=order.total_amount, currency="EUR", status=Refund.Status.FAILED
    )
    data = {"action": "sync_with_provider", "_selected_action": [str(refund.pk)]}
    confirmation = client.post("/admin/payments/refund/", data).content.decode()
    assert "already final" in confirmation and "not yet at the provider" not in confirmation
    page = client.post("/admin/payments/refund/", {**data, "confirm": "yes"}, follow=True)
    text = page.content.decode()
    assert (
        "already failed — nothing to sync" in text and "→" not in text.split("messagelist")[1][:300]
    )
    assert psp.calls_to("GET", f"/refunds/{refund.pk}") == []


def test_a_bulk_sync_is_queued_to_the_worker_with_a_result_summary(
    psp, django_capture_on_commit_callbacks
):
    client, finance = staff_client("Finance")
    refunds = []
    for _ in range(21):
        order = completed_order()
        refunds.append(opened_refund(order, provider_refund_id=None))
    psp.refund_mode = "succeeded"
    data = {
        "action": "sync_with_provider",
        "_selected_action": [str(r.pk) for r in refunds],
        "confirm": "yes",
    }
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post("/admin/payments/refund/", data, follow=True)
    assert "21 refunds queued to the worker" in page.content.decode()
    batch = AuditLog.objects.get(action="admin.refund_sync_batch")
    assert batch.actor == finance and batch.details["refunds"] == 21
    assert sum(batch.details["summary"].values()) == 21
    assert AuditLog.objects.filter(action="admin.refund_sync_queued", actor=finance).exists()


def test_stuck_refunds_are_listed_oldest_first(settings):
    settings.REFUND_RECONCILE_AFTER = 60
    client, _ = staff_client("Finance")
    newer, older = completed_order(), completed_order()
    first = opened_refund(newer)
    second = opened_refund(older)
    Refund.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(hours=1))
    Refund.objects.filter(pk=second.pk).update(created_at=timezone.now() - timedelta(hours=5))
    response = client.get("/admin/payments/refund/", {"stuck": "yes"})
    assert [r.pk for r in response.context["cl"].result_list] == [second.pk, first.pk]


def test_every_overview_count_links_to_a_list_that_opens(post_webhook):
    import re

    client, _ = staff_client("Finance")
    order = completed_order()
    opened_refund(order, provider_refund_id="ref_o1")
    post_webhook({"event_type": "refund_failed", "refund_id": "ref_o1"})
    page = client.get("/admin/payments/overview/").content.decode()
    links = set(re.findall(r'href="(/admin/payments/(?:refund|webhookevent)/\?[^"]+)"', page))
    assert any("stuck=yes" in link for link in links)
    assert any("received_at__date=" in link for link in links)
    assert any("succeeded_at__gte=" in link for link in links)
    for link in links:
        response = client.get(link.replace("&amp;", "&"))
        assert response.status_code == 200, link
        assert "?e=1" not in response.get("Location", ""), link
