"""DRF throttles on the cache, with windows taken from the environment."""

import logging

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from veza.client_ip import client_ip

logger = logging.getLogger(__name__)


class ClientIpThrottle(SimpleRateThrottle):
    """Identifies an anonymous caller by ``veza.client_ip``, never by a client-sent header.

    DRF's own ``get_ident`` believes ``X-Forwarded-For`` unless ``NUM_PROXIES`` is set, which
    lets anyone dodge a per-IP limit by changing the header on every request.
    """

    def get_ident(self, request):
        return client_ip(request) or "unknown"


class WindowedThrottle(ClientIpThrottle):
    """A SimpleRateThrottle whose limit and window (seconds) come from settings."""

    limit_setting = ""
    window_seconds_setting = ""
    window_multiplier = 1

    def get_rate(self):
        return "configured"

    def parse_rate(self, rate):
        limit = getattr(settings, self.limit_setting)
        window = getattr(settings, self.window_seconds_setting) * self.window_multiplier
        return limit, window

    def allow_request(self, request, view):
        if settings.DISABLE_RATE_LIMIT_FOR_TESTS:
            return True
        return super().allow_request(request, view)


class PerHourThrottle(WindowedThrottle):
    """``limit_setting`` requests per hour per client IP (signed in or not), counted under the
    class's scope."""

    def parse_rate(self, rate):
        return getattr(settings, self.limit_setting), 3600

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class CountingThrottle(WindowedThrottle):
    """A fixed-window counter: one atomic increment per request, whatever the limit.

    DRF's SimpleRateThrottle keeps every request's timestamp of the window in one cache entry,
    read and written back whole by each request: its cost grows with the limit, and two
    concurrent requests can each write back a history that lacks the other. For the limits
    every API request passes through, count instead: ``INCR`` on a key named after the
    window (Redis runs it atomically). A caller may get up to twice the limit across a
    window's edge, the usual price of fixed windows. When the cache is unreachable the request
    is let through (logged): a rate limit never takes the API down with it.
    """

    def allow_request(self, request, view):
        if settings.DISABLE_RATE_LIMIT_FOR_TESTS or self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        start = int(self.now // self.duration) * self.duration
        self.window_ends = start + self.duration
        try:
            count = self._count(f"{self.key}:{start}")
        except Exception:  # noqa: BLE001 - a cache outage must not take the API down
            logger.warning("rate limit %s not counted: the cache failed", self.scope, exc_info=True)
            return True
        if count is not None and count > self.num_requests:
            return self.throttle_failure()
        return True

    def _count(self, key: str) -> int | None:
        try:
            return self.cache.incr(key)
        except ValueError:  # the window's first request (or its key was evicted)
            if self.cache.add(key, 1, timeout=self.duration + 1):
                return 1
            return self.cache.incr(key)  # another request of the window added it first

    def wait(self):
        return max(self.window_ends - self.now, 1)


class GlobalRateThrottle(CountingThrottle):
    """RATE_LIMIT_LIMIT requests per RATE_LIMIT_WINDOW seconds, per user or per IP."""

    scope = "global"
    limit_setting = "RATE_LIMIT_LIMIT"
    window_seconds_setting = "RATE_LIMIT_WINDOW"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
