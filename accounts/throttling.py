"""Auth-specific throttles on the cache (DRF throttling, windows from the environment)."""

import hashlib

from django.conf import settings
from django.core.cache import cache

from veza.throttling import ClientIpThrottle, WindowedThrottle


class _PerHourThrottle(WindowedThrottle):
    """``limit_setting`` requests per hour per client IP, counted under the class's scope."""

    def parse_rate(self, rate):
        return getattr(settings, self.limit_setting), 3600

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class RegistrationThrottle(_PerHourThrottle):
    """REGISTRATION_RATE_LIMIT_PER_HOUR registrations per client IP."""

    scope = "register"
    limit_setting = "REGISTRATION_RATE_LIMIT_PER_HOUR"


class PasswordResetThrottle(_PerHourThrottle):
    """PASSWORD_RESET_RATE_LIMIT_PER_HOUR reset emails per client IP, a counter of its own:
    asking for reset links never uses up the address's registrations, nor the reverse."""

    scope = "password-reset"
    limit_setting = "PASSWORD_RESET_RATE_LIMIT_PER_HOUR"


class LoginFailureThrottle(ClientIpThrottle):
    """Counts *failed* logins per IP and per account; refuses while either is over the limit.

    ``allow_request`` only reads the failure history; the login view calls
    ``record_failure`` when the credentials are wrong, so successful logins cost nothing.
    """

    scope = "login-failures"

    def get_rate(self):
        return "configured"

    def parse_rate(self, rate):
        return settings.AUTH_RATE_LIMIT_LOGIN_ATTEMPTS, settings.AUTH_RATE_LIMIT_LOGIN_WINDOW * 60

    def _keys(self, request) -> list[str]:
        keys = [self.cache_format % {"scope": self.scope, "ident": f"ip:{self.get_ident(request)}"}]
        email = request.data.get("email") if hasattr(request, "data") else None
        if isinstance(email, str) and email:
            digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
            keys.append(self.cache_format % {"scope": self.scope, "ident": f"email:{digest}"})
        return keys

    def allow_request(self, request, view):
        if settings.DISABLE_RATE_LIMIT_FOR_TESTS:
            return True
        self.now = self.timer()
        for key in self._keys(request):
            history = [t for t in (cache.get(key) or []) if t > self.now - self.duration]
            if len(history) >= self.num_requests:
                self.history = history
                return False
        return True

    def record_failure(self, request) -> None:
        now = self.timer()
        for key in self._keys(request):
            history = [t for t in (cache.get(key) or []) if t > now - self.duration]
            history.insert(0, now)
            cache.set(key, history, self.duration)

    def reset(self, request) -> None:
        for key in self._keys(request)[1:]:
            cache.delete(key)
