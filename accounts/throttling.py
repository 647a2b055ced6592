"""Auth-specific throttles on the cache (DRF throttling, windows from the environment)."""

import hashlib

from django.conf import settings
from django.core.cache import cache

from accounts.metrics import login_attempts
from veza.throttling import ClientIpThrottle, CountingThrottle, PerHourThrottle


class RegistrationThrottle(PerHourThrottle):
    """REGISTRATION_RATE_LIMIT_PER_HOUR registrations per client IP."""

    scope = "register"
    limit_setting = "REGISTRATION_RATE_LIMIT_PER_HOUR"


class PasswordResetThrottle(PerHourThrottle):
    """PASSWORD_RESET_RATE_LIMIT_PER_HOUR reset emails per client IP, a counter of its own:
    asking for reset links never uses up the address's registrations, nor the reverse."""

    scope = "password-reset"
    limit_setting = "PASSWORD_RESET_RATE_LIMIT_PER_HOUR"


class LoginFailureThrottle(ClientIpThrottle):
    """Failed logins, counted per client IP and per account, with two different strictnesses.

    - Per IP: strict. ``AUTH_RATE_LIMIT_LOGIN_ATTEMPTS`` failures in
      ``AUTH_RATE_LIMIT_LOGIN_WINDOW`` minutes and that address gets 429, whatever account it
      tries, even with a correct password.
    - Per account: a lock that cannot be used to shut the owner out. Its threshold is much
      higher (``AUTH_RATE_LIMIT_ACCOUNT_ATTEMPTS``, a slowdown for an attack spread over many
      addresses), and an address the account signed in from successfully within
      ``AUTH_KNOWN_ADDRESS_DAYS`` is not subject to it at all: strangers failing on purpose
      can at worst stop sign-ins from addresses the owner has never used.

    ``allow_request`` only reads the failure history; the login view calls ``record_failure``
    when the credentials are wrong and ``record_success`` when they are right.
    """

    scope = "login-failures"

    def get_rate(self):
        return "configured"

    def parse_rate(self, rate):
        return settings.AUTH_RATE_LIMIT_LOGIN_ATTEMPTS, settings.AUTH_RATE_LIMIT_LOGIN_WINDOW * 60

    def _key(self, ident: str) -> str:
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def _ip_key(self, request) -> str:
        return self._key(f"ip:{self.get_ident(request)}")

    @staticmethod
    def _account_digest(request) -> str | None:
        data = getattr(request, "data", None)
        # A JSON body may be a list or a scalar: only an object can name an account.
        email = data.get("email") if isinstance(data, dict) else None
        if not isinstance(email, str) or not email.strip():
            return None
        return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]

    def _account_key(self, digest: str) -> str:
        return self._key(f"email:{digest}")

    def _known_address_key(self, digest: str, request) -> str:
        return self._key(f"known:{digest}:{self.get_ident(request)}")

    def _recent(self, key: str) -> list[float]:
        return [t for t in (cache.get(key) or []) if t > self.now - self.duration]

    def allow_request(self, request, view):
        if settings.DISABLE_RATE_LIMIT_FOR_TESTS:
            return True
        self.now = self.timer()
        checks = [(self._ip_key(request), settings.AUTH_RATE_LIMIT_LOGIN_ATTEMPTS)]
        digest = self._account_digest(request)
        if digest and not cache.get(self._known_address_key(digest, request)):
            checks.append((self._account_key(digest), settings.AUTH_RATE_LIMIT_ACCOUNT_ATTEMPTS))
        for key, limit in checks:
            history = self._recent(key)
            if len(history) >= limit:
                self.history, self.num_requests = history, limit
                login_attempts.labels(outcome="throttled").inc()
                return False
        return True

    def wait(self):
        # Until enough failures have left the window for one more attempt (newest first).
        expires_at = self.history[self.num_requests - 1] + self.duration
        return max(1.0, expires_at - self.now)

    def record_failure(self, request) -> None:
        self.now = self.timer()
        keys = [self._ip_key(request)]
        digest = self._account_digest(request)
        if digest:
            keys.append(self._account_key(digest))
        for key in keys:
            history = self._recent(key)
            history.insert(0, self.now)
            cache.set(key, history, self.duration)

    def record_success(self, request) -> None:
        digest = self._account_digest(request)
        if not digest:
            return
        cache.delete(self._account_key(digest))
        cache.set(
            self._known_address_key(digest, request),
            True,
            settings.AUTH_KNOWN_ADDRESS_DAYS * 24 * 3600,
        )


class SecondFactorFailures(CountingThrottle):
    """Wrong second-factor codes of one staff member: ``STAFF_OTP_MAX_FAILURES`` in a fixed
    window of ``STAFF_OTP_FAILURE_WINDOW`` minutes lock the back-office's code form for the
    rest of the window (the admin answers 429). Counted per account, not per address: the
    password is already behind the attacker, the code is what they would guess.

    The project's fixed-window counter (one atomic increment per failure), used directly by
    the second-factor views rather than as a DRF throttle; a correct code clears it. Not
    lifted by ``DISABLE_RATE_LIMIT_FOR_TESTS``: it only ever counts failures."""

    scope = "admin-otp-failures"
    limit_setting = "STAFF_OTP_MAX_FAILURES"
    window_seconds_setting = "STAFF_OTP_FAILURE_WINDOW"
    window_multiplier = 60

    def __init__(self, user):
        super().__init__()
        self.user = user

    @property
    def limit(self) -> int:
        return self.num_requests

    def get_cache_key(self, request=None, view=None):
        return self.cache_format % {"scope": self.scope, "ident": f"user:{self.user.pk}"}

    def _window_key(self) -> str:
        self.now = self.timer()
        start = int(self.now // self.duration) * self.duration
        self.window_ends = start + self.duration
        return f"{self.get_cache_key()}:{start}"

    def add(self) -> int:
        """Count one failure; the failures of the window so far."""
        return self._count(self._window_key()) or 0

    def count(self) -> int:
        return self.cache.get(self._window_key()) or 0

    def locked(self) -> bool:
        return self.count() >= self.num_requests

    def retry_after(self) -> int:
        self._window_key()
        return int(self.wait())

    def clear(self) -> None:
        self.cache.delete(self._window_key())
