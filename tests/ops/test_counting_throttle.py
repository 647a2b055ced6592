"""The global rate limit counts requests with one atomic increment per window."""

import threading

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from veza.throttling import GlobalRateThrottle

pytestmark = pytest.mark.django_db
URL = "/api/v1/auth/check-username?username=someone"


@pytest.fixture
def limited(settings):
    settings.DISABLE_RATE_LIMIT_FOR_TESTS = False
    settings.RATE_LIMIT_LIMIT = 5
    settings.RATE_LIMIT_WINDOW = 60  # the cache is emptied around every test (conftest)


def _request(ip: str) -> Request:
    request = Request(APIRequestFactory().get(URL, REMOTE_ADDR=ip))
    request.user = AnonymousUser()
    return request


def test_the_limit_holds_per_caller_and_the_window_is_one_integer(api_client, limited):
    codes = [api_client.get(URL, REMOTE_ADDR="198.51.100.7").status_code for _ in range(7)]
    assert codes == [200] * 5 + [429] * 2
    refused = api_client.get(URL, REMOTE_ADDR="198.51.100.7")
    assert refused.json()["code"] == "throttled"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert api_client.get(URL, REMOTE_ADDR="198.51.100.8").status_code == 200  # another caller

    throttle = GlobalRateThrottle()
    throttle.allow_request(_request("198.51.100.9"), None)
    start = int(throttle.now // 60) * 60
    assert cache.get(f"{throttle.key}:{start}") == 1  # a count, not a list of timestamps


def test_a_new_window_starts_from_zero(limited, monkeypatch):
    clock = [1_000_020.0]
    monkeypatch.setattr(GlobalRateThrottle, "timer", lambda self: clock[0])
    allowed = [GlobalRateThrottle().allow_request(_request("203.0.113.5"), None) for _ in range(6)]
    assert allowed == [True] * 5 + [False]
    clock[0] += 60
    assert GlobalRateThrottle().allow_request(_request("203.0.113.5"), None) is True


@pytest.mark.skipif(not django_settings.REDIS_URL, reason="atomic increments need Redis")
def test_concurrent_requests_never_exceed_the_limit_on_redis(limited):
    results, barrier = [], threading.Barrier(20)

    def hit():
        barrier.wait()
        results.append(GlobalRateThrottle().allow_request(_request("192.0.2.44"), None))

    threads = [threading.Thread(target=hit) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 15 + [True] * 5


def test_a_cache_failure_lets_the_request_through(api_client, limited, monkeypatch, caplog):
    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "incr", down)
    monkeypatch.setattr(cache, "add", down)
    codes = [api_client.get(URL).status_code for _ in range(7)]
    assert codes == [200] * 7
    assert "not counted" in caplog.text
