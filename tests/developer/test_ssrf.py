"""Webhooks never reach this network's own machines: refused at registration, and again at
delivery on the addresses the name resolves to then; redirects are not followed."""

import socket

import pytest
from django.conf import settings as django_settings

from developer import delivery as delivering
from developer import targets
from developer.models import WebhookDelivery, WebhookEndpoint
from veza.config import problems

URL = "/api/v1/developer/webhooks"


def fake_dns(monkeypatch, address: str):
    def getaddrinfo(host, port, *args, **kwargs):
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(targets, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://localhost:8000/hook",  # a name that resolves to loopback
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "http://192.168.1.10/hook",
        "http://100.64.0.1/hook",
        "ftp://example.com/hook",
        "http://user:pass@127.0.0.1/hook",
    ],
)
def test_private_targets_are_refused_at_registration(url, client_for, user):
    response = client_for(user).post(URL, {"url": url, "events": ["track.ready"]})

    assert response.status_code == 400
    assert response.json()["code"] in ("webhook_target_refused", "invalid")
    assert not WebhookEndpoint.objects.exists()


def test_a_name_resolving_to_a_private_address_is_refused(monkeypatch, client_for, user):
    fake_dns(monkeypatch, "10.1.2.3")

    response = client_for(user).post(
        URL, {"url": "https://hooks.example.com/x", "events": ["track.ready"]}
    )

    assert response.status_code == 400 and response.json()["code"] == "webhook_target_refused"


def test_public_target_is_accepted_and_its_secret_shown_once(monkeypatch, client_for, user):
    fake_dns(monkeypatch, "93.184.216.34")

    response = client_for(user).post(
        URL, {"url": "https://hooks.example.com/x", "events": ["track.ready", "payout.paid"]}
    )

    assert response.status_code == 201
    body = response.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 30
    endpoint = WebhookEndpoint.objects.get(pk=body["id"])
    assert endpoint.secret == body["secret"] and endpoint.events == ["payout.paid", "track.ready"]
    detail = client_for(user).get(f"{URL}/{body['id']}").json()
    assert "secret" not in detail and detail["url"] == "https://hooks.example.com/x"


def test_http_is_refused_in_production(monkeypatch, settings):
    settings.IS_PRODUCTION = True
    fake_dns(monkeypatch, "93.184.216.34")

    with pytest.raises(targets.TargetRefused):
        targets.resolve("http://hooks.example.com/x")
    assert targets.resolve("https://hooks.example.com/x").addresses


def test_production_refuses_to_start_with_private_targets_allowed():
    current = {
        name: getattr(django_settings, name) for name in dir(django_settings) if name.isupper()
    }
    found = problems({**current, "APP_ENV": "production", "WEBHOOK_ALLOW_PRIVATE_TARGETS": True})
    assert any("WEBHOOK_ALLOW_PRIVATE_TARGETS" in problem for problem in found)


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.1", "169.254.169.254", "::1"])
def test_rebinding_to_a_private_address_after_registration_is_refused_at_delivery(
    address, monkeypatch, make_endpoint, user, django_capture_on_commit_callbacks
):
    fake_dns(monkeypatch, "93.184.216.34")
    endpoint = make_endpoint(user, "https://hooks.example.com/x", ["order.completed"])
    fake_dns(monkeypatch, address)  # the name now points inside
    sent = []
    monkeypatch.setattr(delivering.httpx.Client, "stream", lambda *a, **k: sent.append(a))

    with django_capture_on_commit_callbacks(execute=True):
        from developer.services import send_ping

        send_ping(endpoint=endpoint)

    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert sent == []
    assert delivery.status == "pending" and delivery.attempts == 1
    assert "private" in delivery.error and delivery.response_status_code is None


def test_delivery_connects_to_the_checked_address_with_the_name_as_host(
    monkeypatch, receiver, make_endpoint, user, django_capture_on_commit_callbacks
):
    port = receiver.server.server_port
    fake_dns(monkeypatch, "127.0.0.1")
    endpoint = make_endpoint(user, f"http://hooks.example.com:{port}/in", ["order.completed"])

    with django_capture_on_commit_callbacks(execute=True):
        from developer.services import send_ping

        send_ping(endpoint=endpoint)

    (received,) = receiver.requests
    assert received["path"] == "/in"
    headers = {k.lower(): v for k, v in received["headers"].items()}
    assert headers["host"] == f"hooks.example.com:{port}"


def test_redirects_are_not_followed(
    receiver, make_endpoint, user, django_capture_on_commit_callbacks
):
    receiver.statuses = [302]
    receiver.redirect_to = "http://169.254.169.254/latest/meta-data"
    endpoint = make_endpoint(user, receiver.url, ["order.completed"])

    with django_capture_on_commit_callbacks(execute=True):
        from developer.services import send_ping

        send_ping(endpoint=endpoint)

    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert len(receiver.requests) == 1
    assert delivery.status == "pending" and delivery.response_status_code == 302
    assert "redirects are not followed" in delivery.error


def test_delivery_to_loopback_is_refused_when_private_targets_are_not_allowed(
    receiver, make_endpoint, user, settings, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(user, receiver.url, ["order.completed"])  # allowed (tests)
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False

    with django_capture_on_commit_callbacks(execute=True):
        from developer.services import send_ping

        send_ping(endpoint=endpoint)

    assert receiver.requests == []
    assert "private" in WebhookDelivery.objects.get(endpoint=endpoint).error
