"""Bulk sync on the worker with a progress page; approve / reject through a confirmation page;
a rejected refund's ``failed_at``; short ids on the overview; Support and Finance read the
audit log."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from audit.models import AuditLog
from marketplace.models import Order
from payments.models import Refund, RefundSyncBatch
from payments.refunds.sync import sync_chunk
from tests.backoffice.test_admin_console import staff_client
from tests.factories import UserFactory
from tests.marketplace.factories import ProductFactory, completed_order, opened_refund

pytestmark = pytest.mark.django_db

REFUNDS = "/admin/payments/refund/"


def bulk_sync(client, refunds, capture):
    data = {
        "action": "sync_with_provider",
        "_selected_action": [str(r.pk) for r in refunds],
        "confirm": "yes",
    }
    with capture(execute=True):
        return client.post(REFUNDS, data, follow=True)


def test_a_bulk_sync_records_a_batch_whose_page_shows_progress_and_results(
    psp, django_capture_on_commit_callbacks
):
    client, finance = staff_client("Finance")
    pending = [opened_refund(completed_order(), provider_refund_id=None) for _ in range(22)]
    failed_order = completed_order()
    finished = Refund.objects.create(
        order=failed_order, amount=1, currency="EUR", status=Refund.Status.FAILED
    )
    psp.refund_mode = "succeeded"

    page = bulk_sync(client, [*pending, finished], django_capture_on_commit_callbacks)

    assert page.status_code == 200
    batch = RefundSyncBatch.objects.get()
    text = page.content.decode()
    assert "23 refunds queued to the worker" in text
    assert f"/admin/payments/refundsyncbatch/{batch.pk}/change/" in text
    # Eager mode: the two chunks (20 + 3) ran at once.
    assert (batch.total, batch.done, batch.changed, batch.unchanged, batch.errors) == (
        23,
        23,
        22,
        1,
        0,
    )
    assert batch.finished_at is not None and batch.requested_by == finance
    assert Refund.objects.filter(pk__in=[r.pk for r in pending], status="succeeded").count() == 22
    summary = AuditLog.objects.get(action="admin.refund_sync_batch", target_id=str(batch.pk))
    assert summary.details["summary"] == {"changed": 22, "unchanged": 1, "errors": 0}
    progress = client.get(f"/admin/payments/refundsyncbatch/{batch.pk}/change/")
    assert progress.status_code == 200
    body = progress.content.decode()
    assert "23 of 23 done (finished)" in body and "pending → succeeded" in body
    assert 'http-equiv="refresh"' not in body  # a finished batch stops refreshing


def test_a_running_batch_counts_chunks_and_refreshes_until_finished(psp):
    client, finance = staff_client("Finance")
    refunds = [opened_refund(completed_order(), provider_refund_id=None) for _ in range(3)]
    batch = RefundSyncBatch.objects.create(requested_by=finance, total=3)
    psp.refund_mode = "succeeded"

    sync_chunk(batch_id=batch.pk, refund_ids=[str(refunds[0].pk), "not-a-refund"])

    batch.refresh_from_db()
    assert (batch.done, batch.changed, batch.errors, batch.finished_at) == (2, 1, 1, None)
    page = client.get(f"/admin/payments/refundsyncbatch/{batch.pk}/change/").content.decode()
    assert "2 of 3 done (running)" in page and 'http-equiv="refresh"' in page
    assert "no such refund" in page
    sync_chunk(batch_id=batch.pk, refund_ids=[str(refunds[1].pk)])
    batch.refresh_from_db()
    assert batch.done == 3 and batch.finished_at is not None
    # A chunk delivered twice does not count past the total.
    sync_chunk(batch_id=batch.pk, refund_ids=[str(refunds[1].pk)])
    batch.refresh_from_db()
    assert batch.done == 3
    assert AuditLog.objects.filter(action="admin.refund_sync_batch").count() == 1


def test_support_cannot_open_a_sync_batch():
    _, finance = staff_client("Finance")
    batch = RefundSyncBatch.objects.create(requested_by=finance, total=1)
    support, _ = staff_client("Support")
    assert support.get(f"/admin/payments/refundsyncbatch/{batch.pk}/change/").status_code == 403


def waiting_refund(requester_client) -> Refund:
    order = completed_order(products=[ProductFactory(price=80_000)])
    data = {
        "action": "refund_orders",
        "_selected_action": [str(order.pk)],
        "confirm": "yes",
        "reason": "Double charge",
    }
    requester_client.post("/admin/marketplace/order/", data)
    refund = Refund.objects.get(order=order)
    assert refund.status == Refund.Status.AWAITING_APPROVAL
    return refund


def test_the_refund_page_approve_button_confirms_on_get_and_acts_on_post(psp):
    requester, _ = staff_client("Finance")
    approver, _ = staff_client("Finance")
    refund = waiting_refund(requester)
    url = f"{REFUNDS}{refund.pk}/approve/"

    detail = approver.get(f"{REFUNDS}{refund.pk}/change/").content.decode()
    confirmation = approver.get(url)

    assert url in detail and "Reject…" in detail
    assert confirmation.status_code == 200
    text = confirmation.content.decode()
    assert "€800.00" in text and "asked <strong>now</strong>" in text and "Yes, approve" in text
    refund.refresh_from_db()
    assert refund.status == Refund.Status.AWAITING_APPROVAL
    assert psp.calls_to("POST", "/refunds") == []

    done = approver.post(url, follow=True)

    assert done.status_code == 200 and "approved (€800.00), now pending" in done.content.decode()
    refund.refresh_from_db()
    assert refund.status == Refund.Status.PENDING and refund.provider_refund_id


def test_the_refund_page_reject_button_needs_a_reason_and_sets_failed_at(psp):
    requester, _ = staff_client("Finance")
    rejecter, _ = staff_client("Finance")
    refund = waiting_refund(requester)
    url = f"{REFUNDS}{refund.pk}/reject/"

    confirmation = rejecter.get(url)
    no_reason = rejecter.post(url, {"reason": ""})

    assert confirmation.status_code == 200 and "no money moves" in confirmation.content.decode()
    assert no_reason.status_code == 200 and "This field is required" in no_reason.content.decode()
    refund.refresh_from_db()
    assert refund.status == Refund.Status.AWAITING_APPROVAL and refund.failed_at is None

    before = timezone.now()
    done = rejecter.post(url, {"reason": "Not a double charge"}, follow=True)

    assert done.status_code == 200 and "rejected (€800.00 not refunded)" in done.content.decode()
    refund.refresh_from_db()
    assert refund.status == Refund.Status.REJECTED
    assert refund.failed_at is not None and refund.failed_at >= before
    assert refund.succeeded_at is None


def test_the_requester_is_warned_on_the_confirmation_page_and_refused_on_post(psp):
    requester, _ = staff_client("Finance")
    refund = waiting_refund(requester)
    url = f"{REFUNDS}{refund.pk}/approve/"

    confirmation = requester.get(url).content.decode()
    refused = requester.post(url, follow=True)

    assert "You requested 1 of these" in confirmation
    assert "second Finance member must approve" in refused.content.decode()
    refund.refresh_from_db()
    assert refund.status == Refund.Status.AWAITING_APPROVAL
    assert AuditLog.objects.filter(action="refund.decision_refused").exists()


def test_support_may_not_open_the_decision_pages_and_the_attempt_is_audited(psp):
    requester, _ = staff_client("Finance")
    refund = waiting_refund(requester)
    support, agent = staff_client("Support")

    assert support.get(f"{REFUNDS}{refund.pk}/approve/").status_code == 403
    assert support.post(f"{REFUNDS}{refund.pk}/reject/", {"reason": "x"}).status_code == 403
    refund.refresh_from_db()
    assert refund.status == Refund.Status.AWAITING_APPROVAL
    assert AuditLog.objects.filter(action="admin.refused", actor=agent).count() == 2


def test_a_decision_page_for_an_unknown_refund_is_a_404_not_a_500():
    approver, _ = staff_client("Finance")
    assert approver.get(f"{REFUNDS}not-a-uuid/approve/").status_code in (302, 404)
    missing = "00000000-0000-4000-8000-000000000000"
    assert approver.get(f"{REFUNDS}{missing}/reject/").status_code == 404


def test_the_overview_shows_stuck_refunds_by_short_id_linking_to_refund_and_order(settings):
    settings.REFUND_RECONCILE_AFTER = 60
    order = completed_order()
    refund = opened_refund(order)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.REFUND_PENDING)
    Refund.objects.filter(pk=refund.pk).update(created_at=timezone.now() - timedelta(hours=2))
    client, _ = staff_client("Finance")

    page = client.get("/admin/payments/overview/").content.decode()

    stuck = page[page.index("Stuck refunds") :]
    assert f">{str(refund.pk)[:8]}</a>" in stuck and f">{refund.pk}</a>" not in stuck
    assert f'href="/admin/marketplace/order/{order.pk}/change/"' in stuck
    assert f">{str(order.pk)[:8]}</a>" in stuck


@pytest.mark.parametrize("group", ["Support", "Finance"])
def test_support_and_finance_read_the_audit_log_but_never_change_it(group):
    client, user = staff_client(group)
    entry = AuditLog.objects.create(action="refund.requested", target_type="payments.refund")

    assert client.get("/admin/audit/auditlog/").status_code == 200
    assert client.get(f"/admin/audit/auditlog/{entry.pk}/change/").status_code == 200
    assert client.post(f"/admin/audit/auditlog/{entry.pk}/delete/").status_code == 403
    assert user.has_perm("audit.view_auditlog")
    assert not user.has_perm("audit.change_auditlog")
    assert AuditLog.objects.filter(pk=entry.pk).exists()


def test_a_chunk_delivered_twice_is_counted_once(psp):
    _, finance = staff_client("Finance")
    refunds = [opened_refund(completed_order(), provider_refund_id=None) for _ in range(2)]
    batch = RefundSyncBatch.objects.create(requested_by=finance, total=2)
    psp.refund_mode = "succeeded"
    sync_chunk(batch_id=batch.pk, refund_ids=[str(refunds[0].pk)], chunk=0)
    sync_chunk(batch_id=batch.pk, refund_ids=[str(refunds[0].pk)], chunk=0)  # acks late: again
    batch.refresh_from_db()
    assert (batch.done, batch.changed, batch.unchanged, batch.chunks_done) == (1, 1, 0, [0])
    assert batch.finished_at is None
    sync_chunk(batch_id=batch.pk, refund_ids=[str(refunds[1].pk)], chunk=1)
    batch.refresh_from_db()
    assert (batch.done, batch.changed, batch.finished_at is not None) == (2, 2, True)


def test_a_note_needs_the_right_to_read_what_it_is_about():
    refund = opened_refund(completed_order())
    stranger = UserFactory(is_staff=True)  # may add notes, may not view refunds
    stranger.user_permissions.add(Permission.objects.get(codename="add_refundnote"))
    client = Client()
    client.force_login(stranger)
    response = client.post(f"{REFUNDS}{refund.pk}/change/", {"text": "sneaky"})
    assert response.status_code == 403
    assert not refund.notes.exists()


def test_an_id_search_of_dashes_finds_nothing_by_id():
    client, _ = staff_client("Finance")
    opened_refund(completed_order())
    response = client.get(REFUNDS, {"q": "----"})
    assert response.status_code == 200
    assert list(response.context["cl"].queryset) == []
