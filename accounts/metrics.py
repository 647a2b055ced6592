"""The accounts app's Prometheus series (exposed by ``/metrics`` with django-prometheus's)."""

import logging

from django.db import DatabaseError
from django.utils import timezone
from prometheus_client import REGISTRY, Counter
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

users_registered = Counter("veza_users_registered_total", "Accounts created through the API.")
logins = Counter("veza_logins_total", "Login attempts by outcome.", ["outcome"])
# The seed's dashboards read this name; ``outcome`` is ok, failed or throttled.
login_attempts = Counter(
    "veza_auth_login_attempts_total",
    "Login attempts by outcome (ok, failed, throttled).",
    ["outcome"],
)


class ActiveSessionsCollector:
    """``veza_auth_sessions_active``: accounts holding a refresh token that has not expired and
    was not rotated or blacklisted, read from the database at scrape time. An upper bound:
    a token revoked by a ``token_version`` bump (logout, password change) counts until it
    expires or is presented once."""

    def describe(self):
        # Registering must not query the database (it may not exist yet at import time).
        return [GaugeMetricFamily("veza_auth_sessions_active", self._help)]

    _help = "Accounts with an unexpired, unused refresh token."

    def collect(self):
        from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

        try:
            active = (
                OutstandingToken.objects.filter(
                    expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
                )
                .values("user_id")
                .distinct()
                .count()
            )
        except DatabaseError:  # /metrics still answers while the database is down
            logger.warning("veza_auth_sessions_active: database unavailable", exc_info=True)
            return
        yield GaugeMetricFamily("veza_auth_sessions_active", self._help, value=active)


REGISTRY.register(ActiveSessionsCollector())
