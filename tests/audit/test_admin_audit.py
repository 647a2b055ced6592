"""The admin's audit trail: sign-ins, refusals, field-level changes, exports, staff groups."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from audit.models import AuditLog
from marketplace.models import Order
from payments.models import Refund
from tests.backoffice.test_admin_console import staff_client
from tests.factories import DEFAULT_PASSWORD, AdminFactory, UserFactory
from tests.marketplace.factories import completed_order

pytestmark = pytest.mark.django_db

BROWSER = {"HTTP_USER_AGENT": "Mozilla/5.0 (staff browser)", "REMOTE_ADDR": "203.0.113.9"}


def test_admin_sign_in_sign_out_and_failed_sign_in_are_audited():
    staff = UserFactory(is_staff=True)
    staff.groups.add(Group.objects.get(name="Finance"))
    client = Client(**BROWSER)

    failed = client.post("/admin/login/", {"username": staff.email, "password": "wrong"})
    assert failed.status_code == 200
    signed_in = client.post(
        "/admin/login/", {"username": staff.email, "password": DEFAULT_PASSWORD}
    )
    assert signed_in.status_code == 302
    assert client.post("/admin/logout/").status_code == 200

    attempt = AuditLog.objects.get(action="admin.login_failed")
    assert attempt.details["username"] == staff.email and attempt.actor is None
    login = AuditLog.objects.get(action="admin.login")
    assert (login.actor, login.ip_address, login.actor_groups) == (staff, "203.0.113.9", "Finance")
    assert login.user_agent == "Mozilla/5.0 (staff browser)"
    assert AuditLog.objects.get(action="admin.logout").actor == staff


def test_an_api_login_is_not_an_admin_sign_in(api_client):
    user = UserFactory()
    response = api_client.post(
        "/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
    )
    assert response.status_code == 200
    assert not AuditLog.objects.filter(action__startswith="admin.").exists()


def test_an_admin_edit_records_each_fields_old_and_new_value_with_ip_and_user_agent():
    superuser = AdminFactory(is_staff=True, is_superuser=True)
    client = Client(**BROWSER)
    client.force_login(superuser)
    target = UserFactory(display_name="Before")
    response = client.post(
        f"/admin/accounts/user/{target.pk}/change/",
        {
            "email": target.email,
            "username": target.username,
            "display_name": "After",
            "bio": "",
            "avatar_url": "",
            "role": "creator",
            "is_active": "on",
            "email_verified": "on",
            "last_login_0": "",
            "last_login_1": "",
        },
    )
    assert response.status_code == 302
    entry = AuditLog.objects.get(action="admin.change", target_id=str(target.pk))
    fields = entry.details["fields"]
    assert fields["display_name"] == {"old": "Before", "new": "After"}
    assert fields["role"] == {"old": target.role, "new": "creator"}
    assert "password" not in fields or fields["password"]["new"] == "***"
    assert (entry.ip_address, entry.user_agent) == ("203.0.113.9", "Mozilla/5.0 (staff browser)")


def test_a_permission_refusal_in_the_admin_is_audited():
    client, auditor = staff_client("Auditor")
    entry = AuditLog.objects.create(action="auth.login", actor=auditor)
    assert client.get(f"/admin/audit/auditlog/{entry.pk}/delete/").status_code == 403
    refusal = AuditLog.objects.get(action="admin.refused")
    assert refusal.actor == auditor and refusal.actor_groups == "Auditor"
    assert "/delete/" in refusal.details["attempt"]


def test_a_window_refusal_in_the_admin_is_audited(psp):
    order = completed_order()
    Order.objects.filter(pk=order.pk).update(refund_deadline=timezone.now() - timedelta(days=1))
    support, staff = staff_client("Support")
    page = support.post(
        "/admin/marketplace/order/",
        {
            "action": "refund_orders",
            "_selected_action": [str(order.pk)],
            "confirm": "yes",
            "reason": "late",
        },
        follow=True,
    )
    assert "Only Finance may refund after the window" in page.content.decode()
    assert not Refund.objects.exists()
    refusal = AuditLog.objects.get(action="admin.refused", target_id=str(order.pk))
    assert refusal.actor == staff and refusal.details["code"] == "refund_window_expired"


def test_audit_export_is_audited_and_its_details_are_json():
    client, auditor = staff_client("Auditor")
    AuditLog.objects.create(
        action="refund.requested", details={"amount": 4999, "currency": "EUR", "via": "admin"}
    )
    response = client.get("/admin/audit/auditlog/export.csv?action__exact=refund.requested")
    body = b"".join(response.streaming_content).decode()
    assert response.status_code == 200
    header, row = body.splitlines()[:2]
    assert "actor_groups" in header
    details = json.loads(row[row.index('"{') + 1 : -1].replace('""', '"'))
    assert details == {"amount": 4999, "currency": "EUR", "via": "admin"}
    export = AuditLog.objects.get(action="admin.export")
    assert export.actor == auditor
    assert export.details["rows"] == 1
    assert export.details["filters"] == {"action__exact": "refund.requested"}


def test_the_audit_console_filters_by_staff_group_and_shows_amounts_both_ways():
    client, _ = staff_client("Auditor")
    _, finance_user = staff_client("Finance")
    from audit.services import record

    entry = record(
        action="refund.requested", actor=finance_user, details={"amount": 4999, "currency": "EUR"}
    )
    record(action="something.else", actor=UserFactory(is_staff=True))
    page = client.get("/admin/audit/auditlog/?staff_group=Finance").content.decode()
    assert 'field-action">refund.requested' in page
    assert 'field-action">something.else' not in page
    detail = client.get(f"/admin/audit/auditlog/{entry.pk}/change/").content.decode()
    assert "4999 (€49.99)" in detail


def test_the_auditor_follows_an_audit_entry_to_its_refund_and_order_read_only(psp):
    from payments.refunds.services import open_refund

    order = completed_order()
    _, support = staff_client("Support")
    refund = open_refund(order_id=order.pk, requested_by=support, reason="x", as_staff=True)
    entry = AuditLog.objects.get(action="refund.requested", target_id=str(refund.pk))
    client, _ = staff_client("Auditor")

    page = client.get(f"/admin/audit/auditlog/{entry.pk}/change/").content.decode()
    refund_url = f"/admin/payments/refund/{refund.pk}/change/"
    assert refund_url in page
    assert client.get(refund_url).status_code == 200
    assert client.get(f"/admin/marketplace/order/{order.pk}/change/").status_code == 200
    assert client.get("/admin/payments/ledgerentry/").status_code == 200
    listing = client.get("/admin/payments/refund/").content.decode()
    assert "sync_with_provider" not in listing and "approve_refunds" not in listing
    assert client.post(refund_url, {}).status_code == 403


def test_audit_export_rows_carry_the_actor_and_address_as_written():
    import csv
    import io

    client, auditor = staff_client("Auditor")
    _, finance_user = staff_client("Finance")
    AuditLog.objects.create(
        action="refund.approved",
        actor=finance_user,
        actor_role="user",
        actor_groups="Finance",
        target_type="payments.refund",
        target_id="abc",
        ip_address="10.0.0.7",
        user_agent="Firefox",
        details={"amount": 1},
    )
    AuditLog.objects.create(action="refund.approved")  # no actor, no address
    response = client.get("/admin/audit/auditlog/export.csv?action__exact=refund.approved")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert response.status_code == 200 and len(rows) == 3
    by_actor = {row[2]: row for row in rows[1:]}
    assert by_actor[finance_user.username][3:] == [
        "user",
        "Finance",
        "payments.refund",
        "abc",
        "10.0.0.7",
        "Firefox",
        '{"amount": 1}',
    ]
    assert by_actor[""][7] == ""
