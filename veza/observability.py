"""Sentry, initialised only when SENTRY_DSN is set (called from settings).

``scrub_event`` is the ``before_send`` hook: whatever an integration or a local variable
captured, no email address, credential header, cookie, password or token leaves the service.
"""

import re
from typing import Any

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration

FILTERED = "[Filtered]"
_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# Keys whose value is a secret or personal data whatever it looks like.
_SENSITIVE_KEY_RE = re.compile(
    r"pass(word)?|secret|token|access|refresh|authori[sz]ation|cookie|session|csrf|"
    r"api[-_]?key|signature|email|jwt|credential",
    re.IGNORECASE,
)
_BEARER_RE = re.compile(r"(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)


def scrub(value: Any, *, depth: int = 0) -> Any:
    """A copy of ``value`` with sensitive keys filtered and emails/bearer tokens masked."""
    if depth > 20:
        return FILTERED
    if isinstance(value, dict):
        return {
            key: FILTERED
            if isinstance(key, str) and _SENSITIVE_KEY_RE.search(key)
            else scrub(item, depth=depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        # Header lists arrive as [[name, value], ...] pairs.
        if len(value) == 2 and isinstance(value[0], str) and _SENSITIVE_KEY_RE.search(value[0]):
            return [value[0], FILTERED]
        return [scrub(item, depth=depth + 1) for item in value]
    if isinstance(value, str):
        return _BEARER_RE.sub(FILTERED, _EMAIL_RE.sub(FILTERED, value))
    return value


def scrub_event(event: dict, hint: dict | None = None) -> dict:
    """Sentry ``before_send`` (and ``before_send_transaction``)."""
    event = scrub(event)
    user = event.get("user")
    if isinstance(user, dict):
        # Keep the id (useful, not personal on its own); drop the rest.
        event["user"] = {k: v for k, v in user.items() if k == "id"}
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("cookies", None)
        if request.get("data") not in (None, ""):
            request["data"] = scrub(request["data"])
        if isinstance(request.get("query_string"), str) and request["query_string"]:
            request["query_string"] = FILTERED
    return event


def scrub_breadcrumb(crumb: dict, hint: dict | None = None) -> dict:
    return scrub(crumb)


def init_sentry(*, dsn: str, environment: str, release: str, traces_sample_rate: float) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=f"veza@{release}",
        integrations=[DjangoIntegration(), CeleryIntegration()],
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,  # no emails, IPs or cookies leave the service
        before_send=scrub_event,
        before_send_transaction=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
    )
