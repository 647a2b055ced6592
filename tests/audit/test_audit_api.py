from datetime import timedelta
from datetime import timezone as dt_timezone

import pytest
from django.utils import timezone

from audit.models import AuditLog
from audit.services import record
from tests.factories import AdminFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGS = "/api/v1/admin/audit/logs"


def test_audit_endpoints_are_admin_only(api_client, client_for, user):
    for url in (LOGS, "/api/v1/admin/audit/stats", "/api/v1/admin/audit/suspicious"):
        assert api_client.get(url).status_code == 401
        response = client_for(user).get(url)
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
        assert client_for(AdminFactory()).get(url).status_code == 200


def test_logs_are_filtered_and_paginated(client_for, django_assert_max_num_queries):
    admin = AdminFactory()
    alice, bob = UserFactory(), UserFactory()
    for _ in range(3):
        record(action="auth.login", actor=alice)
    record(action="auth.logout", actor=alice)
    record(action="auth.login", actor=bob)
    record(action="auth.login", actor=bob)
    client = client_for(admin)

    with django_assert_max_num_queries(5):
        body = client.get(f"{LOGS}?user={alice.id}&action=auth.login&page_size=2").json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["results"][0]["actor"]["username"] == alice.username
    assert body["next"]

    since = (timezone.now() + timedelta(minutes=1)).isoformat()
    assert client.get(LOGS, {"since": since}).json()["count"] == 0
    assert client.get(f"{LOGS}?since=yesterday").status_code == 400


def test_audit_entries_cannot_be_changed_or_deleted(user):
    entry = record(action="auth.login", actor=user)
    entry.action = "tampered"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditLog.objects.filter(pk=entry.pk).update(action="tampered")
    with pytest.raises(PermissionError):
        AuditLog.objects.all().delete()
    assert AuditLog.objects.get(pk=entry.pk).action == "auth.login"


def test_stats_count_by_action_day_and_actor(client_for):
    admin = AdminFactory()
    alice = UserFactory()
    for _ in range(3):
        record(action="auth.login", actor=alice)
    record(action="auth.logout", actor=alice)
    body = client_for(admin).get("/api/v1/admin/audit/stats?days=7").json()
    assert body["window_days"] == 7
    assert {"action": "auth.login", "count": 3} in body["by_action"]
    assert sum(day["count"] for day in body["by_day"]) == body["total"] == 4
    assert body["top_actors"][0] == {
        "actor_id": str(alice.id),
        "username": alice.username,
        "count": 4,
    }
    assert client_for(admin).get("/api/v1/admin/audit/stats?days=0").status_code == 400


def test_suspicious_reports_failed_logins_and_refund_bursts(client_for, api_client, settings):
    settings.AUDIT_SUSPICIOUS_FAILED_LOGINS = 3
    settings.AUTH_RATE_LIMIT_LOGIN_ATTEMPTS = 100
    victim = UserFactory()
    for _ in range(3):
        api_client.post("/api/v1/auth/login", {"email": victim.email, "password": "wrong-guess"})
    burst = UserFactory()
    for _ in range(settings.AUDIT_SUSPICIOUS_REFUND_REQUESTS):
        record(action="refund.requested", actor=burst)

    body = client_for(AdminFactory()).get("/api/v1/admin/audit/suspicious").json()

    assert body["failed_logins_by_ip"] == [{"ip_address": "127.0.0.1", "count": 3}]
    assert body["failed_logins_by_account"] == [{"email": victim.email, "count": 3}]
    assert body["refund_request_bursts"][0]["actor_id"] == str(burst.id)


def test_suspicious_reports_webhook_signature_failures_per_ip(client_for, post_webhook, settings):
    settings.AUDIT_SUSPICIOUS_SIGNATURE_FAILURES = 2
    for _ in range(2):
        assert post_webhook({"event_type": "payment_succeeded"}, signature="00").status_code == 401
    body = client_for(AdminFactory()).get("/api/v1/admin/audit/suspicious").json()
    assert body["webhook_signature_failures_by_ip"] == [{"ip_address": "127.0.0.1", "count": 2}]


@pytest.mark.parametrize(
    "offset, shift, expected",
    [
        # +22:41 is a valid ISO offset that PostgreSQL refuses (it allows up to ±15:59).
        (timedelta(hours=22, minutes=41), timedelta(hours=-1), 1),
        (timedelta(hours=-23, minutes=-59), timedelta(hours=1), 0),
        (timedelta(0), timedelta(hours=-1), 1),
    ],
)
def test_logs_since_accepts_any_iso_offset_and_compares_in_utc(client_for, offset, shift, expected):
    record(action="auth.login", actor=UserFactory())
    since = (timezone.now() + shift).astimezone(dt_timezone(offset)).isoformat()
    response = client_for(AdminFactory()).get(LOGS, {"since": since, "action": "auth.login"})
    assert response.status_code == 200
    assert response.json()["count"] == expected


def test_logs_since_out_of_range_once_in_utc_is_400(client_for):
    response = client_for(AdminFactory()).get(LOGS, {"since": "9999-12-31T23:59:00-10:00"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
