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


class GlobalRateThrottle(WindowedThrottle):
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
