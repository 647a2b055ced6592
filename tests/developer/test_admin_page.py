"""The staff's developer page: failure rates, disable/enable (audited), recent deliveries."""

from django.test import Client
from django.utils import timezone

from audit.models import AuditLog
from developer.models import OutboxEvent, WebhookDelivery
from tests.factories import UserFactory


def superuser_client():
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    return client, staff


def test_endpoints_list_shows_failure_rates_and_recent_deliveries(receiver, make_endpoint, user):
    endpoint = make_endpoint(user, receiver.url, ["order.completed"])
    event = OutboxEvent.objects.create(
        type="order.completed", data={}, dispatched_at=timezone.now()
    )
    other = OutboxEvent.objects.create(
        type="order.completed", data={}, dispatched_at=timezone.now()
    )
    WebhookDelivery.objects.create(endpoint=endpoint, event=event, status="succeeded", attempts=1)
    WebhookDelivery.objects.create(
        endpoint=endpoint, event=other, status="failed", attempts=8, error="HTTP 500"
    )
    client, _ = superuser_client()

    page = client.get("/admin/developer/webhookendpoint/")
    assert page.status_code == 200
    assert receiver.url in page.content.decode() and "50 %" in page.content.decode()
    detail = client.get(f"/admin/developer/webhookendpoint/{endpoint.pk}/change/")
    assert detail.status_code == 200 and "HTTP 500" in detail.content.decode()
    assert endpoint.secret not in detail.content.decode()
    assert client.get("/admin/developer/webhookdelivery/").status_code == 200
    assert client.get("/admin/developer/apikey/").status_code == 200


def test_staff_disable_and_enable_are_audited(receiver, make_endpoint, user):
    endpoint = make_endpoint(user, receiver.url, ["order.completed"])
    client, staff = superuser_client()

    for action, active in (("disable_endpoints", False), ("enable_endpoints", True)):
        response = client.post(
            "/admin/developer/webhookendpoint/",
            {"action": action, "_selected_action": [str(endpoint.pk)]},
        )
        assert response.status_code == 302
        endpoint.refresh_from_db()
        assert endpoint.is_active is active

    actions = list(
        AuditLog.objects.filter(target_id=str(endpoint.pk), actor=staff).values_list(
            "action", flat=True
        )
    )
    assert "webhook_endpoint.disable" in actions and "webhook_endpoint.enable" in actions


def test_staff_without_the_permission_cannot_toggle(receiver, make_endpoint, user):
    endpoint = make_endpoint(user, receiver.url, ["order.completed"])
    staff = UserFactory(is_staff=True)
    client = Client()
    client.force_login(staff)

    response = client.post(
        "/admin/developer/webhookendpoint/",
        {"action": "disable_endpoints", "_selected_action": [str(endpoint.pk)]},
    )

    assert response.status_code == 403
    endpoint.refresh_from_db()
    assert endpoint.is_active


def test_support_may_toggle_and_auditors_only_look(receiver, make_endpoint, user):
    from django.contrib.auth.models import Group

    endpoint = make_endpoint(user, receiver.url, ["order.completed"])
    support = UserFactory(is_staff=True)
    support.groups.add(Group.objects.get(name="Support"))
    auditor = UserFactory(is_staff=True)
    auditor.groups.add(Group.objects.get(name="Auditor"))
    clients = {}
    for name, staff in (("support", support), ("auditor", auditor)):
        clients[name] = Client()
        clients[name].force_login(staff)
        assert clients[name].get("/admin/developer/webhookendpoint/").status_code == 200

    refused = clients["auditor"].post(
        "/admin/developer/webhookendpoint/",
        {"action": "disable_endpoints", "_selected_action": [str(endpoint.pk)]},
    )
    endpoint.refresh_from_db()
    assert refused.status_code != 302 or endpoint.is_active
    assert endpoint.is_active

    clients["support"].post(
        "/admin/developer/webhookendpoint/",
        {"action": "disable_endpoints", "_selected_action": [str(endpoint.pk)]},
    )
    endpoint.refresh_from_db()
    assert endpoint.is_active is False
