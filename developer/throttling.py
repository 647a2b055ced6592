from django.conf import settings

from developer.permissions import is_api_key
from veza.throttling import GlobalRateThrottle


class ApiKeyRateThrottle(GlobalRateThrottle):
    """API_KEY_RATE_LIMIT requests a minute per key (its id), next to the global per-user
    limit; JWT and anonymous requests are not counted here."""

    scope = "api_key"

    def parse_rate(self, rate):
        return settings.API_KEY_RATE_LIMIT, 60

    def get_cache_key(self, request, view):
        if is_api_key(request.auth):
            return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
        return None

    def allow_request(self, request, view):
        if not is_api_key(request.auth):
            return True
        return super().allow_request(request, view)
