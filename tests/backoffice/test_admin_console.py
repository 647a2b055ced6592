"""The Django admin as staff use it: groups, the refund actions, the audit console."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from audit.models import AuditLog
from marketplace.models import Order
from payments.models import Refund, RefundItem
from tests.factories import AdminFactory, UserFactory
from tests.marketplace.factories import completed_order

pytestmark = pytest.mark.django_db


def staff_client(*groups: str) -> tuple[Client, object]:
    user = UserFactory(is_staff=True)
    user.groups.add(*Group.objects.filter(name__in=groups))
    client = Client()
    client.force_login(user)
    return client, user


ADMIN_PAGES = {
    "users": "/admin/accounts/user/",
    "orders": "/admin/marketplace/order/",
    "refunds": "/admin/payments/refund/",
    "ledger": "/admin/payments/ledgerentry/",
    "webhooks": "/admin/payments/webhookevent/",
    "audit": "/admin/audit/auditlog/",
    "overview": "/admin/payments/overview/",
}


@pytest.mark.parametrize(
    "group, allowed",
    [
        ("Support", {"users", "orders", "refunds", "audit", "overview"}),
        ("Finance", {"users", "orders", "refunds", "ledger", "webhooks", "audit", "overview"}),
        ("Auditor", {"users", "orders", "refunds", "ledger", "webhooks", "audit", "overview"}),
    ],
)
def test_each_group_sees_exactly_what_it_may(group, allowed):
    client, _ = staff_client(group)
    for name, url in ADMIN_PAGES.items():
        status = client.get(url).status_code
        assert (status == 200) == (name in allowed), (group, name, status)


def test_api_admin_role_is_not_staff():
    client = Client()
    client.force_login(AdminFactory(is_staff=False))
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_support_cannot_sync_but_finance_can(psp):
    order = completed_order()
    Refund.objects.create(order=order, amount=order.total_amount, currency="EUR")
    support, _ = staff_client("Support")
    finance, _ = staff_client("Finance")
    actions_of = lambda c: c.get("/admin/payments/refund/").content.decode()  # noqa: E731
    assert "sync_with_provider" not in actions_of(support)
    assert "sync_with_provider" in actions_of(finance)


def test_refund_admin_has_no_query_per_row(psp):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client, _ = staff_client("Finance")

    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get("/admin/payments/refund/").status_code == 200
        return len(context.captured_queries)

    def add_refund() -> None:
        order = completed_order()
        Refund.objects.create(order=order, amount=order.total_amount, currency="EUR")

    add_refund()
    with_one = queries_for_list()
    for _ in range(7):
        add_refund()
    assert queries_for_list() == with_one


def test_refund_detail_shows_order_items_licences_ledger_and_webhooks(psp, post_webhook):
    client, _ = staff_client("Finance")
    order = completed_order()
    refund = Refund.objects.create(
        order=order, amount=order.total_amount, currency="EUR", provider_refund_id="ref_x"
    )
    for item in order.items.all():
        RefundItem.objects.create(refund=refund, order_item=item, amount=item.price)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.REFUND_PENDING)
    post_webhook({"event_type": "refund_succeeded", "refund_id": "ref_x"})
    page = client.get(f"/admin/payments/refund/{refund.pk}/change/").content.decode()
    for expected in ("Refund debit", "Sale credit", "refund_succeeded", "processed", "revoked"):
        assert expected.lower() in page.lower(), expected


def test_support_refunds_an_order_through_the_admin_action(psp):
    client, staff = staff_client("Support")
    order = completed_order()
    url = "/admin/marketplace/order/"
    data = {"action": "refund_orders", "_selected_action": [str(order.pk)]}
    confirmation = client.post(url, data)
    assert confirmation.status_code == 200
    assert b"Yes, refund" in confirmation.content
    assert not Refund.objects.exists()  # nothing moves before confirmation

    response = client.post(
        url, {**data, "confirm": "yes", "reason": "Duplicate purchase"}, follow=True
    )

    assert response.status_code == 200
    refund = Refund.objects.get(order=order)
    assert (refund.status, refund.requested_by) == (Refund.Status.PENDING, staff)
    assert refund.provider_refund_id == str(refund.pk)
    assert "refund" in response.content.decode().lower()
    # One action, one audit entry: the same service as the API, marked as the admin's.
    entries = AuditLog.objects.filter(target_id=str(refund.pk), actor=staff)
    assert [(e.action, e.details["via"]) for e in entries] == [("refund.requested", "admin")]


def test_window_override_needs_a_reason_and_the_permission_and_is_audited(psp):
    order = completed_order()
    Order.objects.filter(pk=order.pk).update(refund_deadline=timezone.now() - timedelta(days=1))
    data = {"action": "refund_orders", "_selected_action": [str(order.pk)], "confirm": "yes"}

    support, _ = staff_client("Support")
    page = support.post("/admin/marketplace/order/", {**data, "reason": "late"}, follow=True)
    assert "expired" in page.content.decode()
    assert not Refund.objects.exists()

    finance, staff = staff_client("Finance")
    finance.post(
        "/admin/marketplace/order/",
        {**data, "reason": "late", "override_window_reason": "Bank error confirmed by phone"},
        follow=True,
    )
    refund = Refund.objects.get(order=order)
    entry = AuditLog.objects.get(action="refund.requested", target_id=str(refund.pk))
    assert entry.actor == staff
    assert entry.details["window_override_reason"] == "Bank error confirmed by phone"
    assert refund.status == Refund.Status.AWAITING_APPROVAL  # an override waits (four eyes)


def test_audit_log_is_read_only_and_exports_filtered_csv():
    client, auditor = staff_client("Auditor")
    AuditLog.objects.create(action="auth.login", actor=auditor)
    AuditLog.objects.create(action="auth.logout", actor=auditor)
    entry = AuditLog.objects.first()
    assert client.get(f"/admin/audit/auditlog/{entry.pk}/delete/").status_code == 403
    assert client.post("/admin/audit/auditlog/add/").status_code == 403
    superuser = Client()
    superuser.force_login(AdminFactory(is_staff=True, is_superuser=True))
    assert superuser.get(f"/admin/audit/auditlog/{entry.pk}/delete/").status_code == 403

    csv = client.get("/admin/audit/auditlog/export.csv?action__exact=auth.login")
    assert csv.status_code == 200
    body = b"".join(csv.streaming_content).decode()
    assert body.splitlines()[0].startswith("created_at,action,actor")
    assert "auth.login" in body and "auth.logout" not in body


def test_changes_made_in_the_admin_are_audited():
    superuser = AdminFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(superuser)
    target = UserFactory()
    response = client.post(
        f"/admin/accounts/user/{target.pk}/change/",
        {
            "email": target.email,
            "username": target.username,
            "display_name": "Renamed",
            "bio": "",
            "avatar_url": "",
            "role": "creator",
            "is_active": "on",
            "email_verified": "on",
            "last_login_0": "",
            "last_login_1": "",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    entry = AuditLog.objects.get(action="admin.change", target_id=str(target.pk))
    assert entry.actor == superuser
    assert "role" in str(entry.details["changes"]).lower()
    target.refresh_from_db()
    assert target.role == "creator" and target.token_version == 1


def test_staff_refund_only_the_items_they_pick(psp):
    from tests.marketplace.factories import ProductFactory

    order = completed_order(products=[ProductFactory(price=1000), ProductFactory(price=2500)])
    first, second = order.items.order_by("position")
    client, _ = staff_client("Finance")
    data = {"action": "refund_orders", "_selected_action": [str(order.pk)]}
    page = client.post("/admin/marketplace/order/", data).content.decode()
    assert str(second.pk) in page and "€25.00" in page
    client.post(
        "/admin/marketplace/order/",
        {**data, "confirm": "yes", "reason": "wrong licence", "items": [str(second.pk)]},
        follow=True,
    )
    refund = Refund.objects.get(order=order)
    assert refund.amount == 2500
    assert list(refund.refund_items.values_list("order_item", flat=True)) == [second.pk]


def test_dispute_console_lists_open_disputes_by_due_date_and_takes_notes(post_webhook):
    from payments.models import Dispute, DisputeNote

    orders = [completed_order() for _ in range(3)]
    due = ["2026-01-01T00:00:00Z", "2099-01-02T00:00:00Z", "2099-01-01T00:00:00Z"]
    for n, (order, when) in enumerate(zip(orders, due, strict=True)):
        post_webhook(
            {
                "event_type": "dispute_opened",
                "event_id": f"evt_console_{n}",
                "content": {
                    "object": {
                        "dispute_id": f"dp_console_{n}",
                        "payment_id": order.hyperswitch_payment_id,
                        "amount": str(order.total_amount),
                        "currency": "EUR",
                        "dispute_stage": "dispute",
                        "challenge_required_by": when,
                    }
                },
            }
        )
    client, staff = staff_client("Finance")
    page = client.get("/admin/payments/dispute/").content.decode()
    order_in_page = [
        str(Dispute.objects.get(provider_dispute_id=f"dp_console_{n}").pk)[:8] for n in (0, 2, 1)
    ]
    indexes = [page.index(short) for short in order_in_page]
    assert indexes == sorted(indexes)  # overdue first, then the nearest deadline
    assert "overdue" in page

    dispute = Dispute.objects.get(provider_dispute_id="dp_console_0")
    url = f"/admin/payments/dispute/{dispute.pk}/change/"
    detail = client.get(url).content.decode()
    for expected in ("Dispute hold", "suspended", orders[0].hyperswitch_payment_id):
        assert expected.lower() in detail.lower(), expected
    response = client.post(url, {"text": "Asked the buyer for the receipt."})
    assert response.status_code == 302
    note = DisputeNote.objects.get(dispute=dispute)
    assert (note.author, note.text) == (staff, "Asked the buyer for the receipt.")
    assert AuditLog.objects.filter(action="dispute.note_added", actor=staff).exists()
    assert "Asked the buyer" in client.get(url).content.decode()
    auditor, _ = staff_client("Auditor")
    assert auditor.post(url, {"text": "nope"}).status_code == 403
    assert DisputeNote.objects.count() == 1


def test_a_sellers_page_shows_its_four_amounts_and_links_to_every_movement(post_webhook):
    import re

    from payments.models import SellerBalance

    order = completed_order()
    seller = order.items.get().seller
    balance = SellerBalance.objects.get(seller=seller)
    client, _ = staff_client("Finance")
    page = client.get(f"/admin/payments/sellerbalance/{balance.pk}/change/").content.decode()
    assert "€9.00" in page  # pending 900 minor units
    assert "equals the sum of its entries" in page
    assert "Sale credit" in page
    links = re.findall(
        r'href="(/admin/payments/(?:ledgerentry|sellertransfer|payout)/\?[^"]+)"', page
    )
    assert len(links) == 3
    for link in links:
        listing = client.get(link.replace("&amp;", "&"))
        assert listing.status_code == 200, link
    entries = client.get(links[0].replace("&amp;", "&")).content.decode()
    assert "Sale credit" in entries
