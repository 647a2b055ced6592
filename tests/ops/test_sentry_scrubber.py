"""What leaves for Sentry: no emails, credentials, cookies, passwords or tokens."""

import json

from veza.observability import FILTERED, scrub_event


def _event() -> dict:
    return {
        "message": "login failed for ada@example.com",
        "user": {
            "id": "42",
            "email": "ada@example.com",
            "username": "ada",
            "ip_address": "1.2.3.4",
        },
        "request": {
            "url": "https://api.veza.example/api/v1/auth/login",
            "method": "POST",
            "query_string": "token=abc",
            "cookies": {"sessionid": "s3ss10n"},
            "headers": {
                "Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig",
                "Cookie": "sessionid=s3ss10n; csrftoken=csrf-value",
                "X-Webhook-Signature-512": "deadbeef",
                "User-Agent": "pytest",
            },
            "data": {"email": "ada@example.com", "password": "hunter2-hunter2", "remember": True},
        },
        "exception": {
            "values": [
                {
                    "type": "ValueError",
                    "value": "bad token for grace@example.org",
                    "stacktrace": {
                        "frames": [
                            {
                                "function": "login",
                                "vars": {
                                    "password": "hunter2-hunter2",
                                    "refresh": "eyJrefresh",
                                    "new_password1": "xyz-secret",
                                    "count": 3,
                                    "header": "Bearer eyJhbGciOiJIUzI1NiJ9.other.sig",
                                },
                            }
                        ]
                    },
                }
            ]
        },
        "breadcrumbs": {
            "values": [{"message": "sent mail to bob@example.net", "category": "mail"}]
        },
        "extra": {"api_key": "sk_live_123", "order_id": "o-1"},
    }


def test_scrubber_removes_personal_data_and_credentials():
    event = scrub_event(_event(), {})
    text = json.dumps(event)
    for secret in (
        "ada@example.com",
        "grace@example.org",
        "bob@example.net",
        "hunter2-hunter2",
        "xyz-secret",
        "eyJhbGciOiJIUzI1NiJ9",
        "eyJrefresh",
        "s3ss10n",
        "csrf-value",
        "deadbeef",
        "sk_live_123",
        "token=abc",
        "1.2.3.4",
    ):
        assert secret not in text, secret

    request = event["request"]
    assert request["headers"]["Authorization"] == FILTERED
    assert request["headers"]["Cookie"] == FILTERED
    assert "cookies" not in request
    assert request["data"]["password"] == FILTERED
    assert event["user"] == {"id": "42"}


def test_scrubber_keeps_what_is_needed_to_debug():
    event = scrub_event(_event(), {})
    assert event["request"]["method"] == "POST"
    assert event["request"]["url"].endswith("/api/v1/auth/login")
    assert event["request"]["headers"]["User-Agent"] == "pytest"
    assert event["request"]["data"]["remember"] is True
    frame = event["exception"]["values"][0]["stacktrace"]["frames"][0]
    assert frame["function"] == "login"
    assert frame["vars"]["count"] == 3
    assert event["extra"]["order_id"] == "o-1"
    assert event["message"] == f"login failed for {FILTERED}"


def test_header_pairs_are_scrubbed_too():
    event = scrub_event(
        {"request": {"headers": [["Authorization", "Bearer x"], ["Accept", "*/*"]]}}
    )
    assert event["request"]["headers"] == [["Authorization", FILTERED], ["Accept", "*/*"]]


def test_sentry_is_initialised_with_the_scrubber(monkeypatch):
    import sentry_sdk

    from veza import observability

    captured = {}
    monkeypatch.setattr(sentry_sdk, "init", lambda **kwargs: captured.update(kwargs))
    observability.init_sentry(
        dsn="https://public@sentry.example/1", environment="test", release="0", traces_sample_rate=0
    )
    assert captured["before_send"] is scrub_event
    assert captured["send_default_pii"] is False
