"""Who the client is: the one place that decides, for throttles, the audit log and logs.

``TRUSTED_PROXY_COUNT`` says how many reverse proxies in front of the app append the address
they received the request from to ``X-Forwarded-For``. With 0 (the default) the client is
the socket's peer (``REMOTE_ADDR``) and a client-sent ``X-Forwarded-For`` is never read:
anyone can write any value into it. With N, the client is the N-th address from the right,
the one the outermost trusted proxy saw; whatever the client itself put further left is
ignored.
"""

import ipaddress

from django.conf import settings


def _as_ip(value: str) -> str | None:
    """A normalised IP address, or None when ``value`` is not one (a port is tolerated)."""
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.7:51234"
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request) -> str:
    """The client's address as a normalised IP string ("" when even the socket's is unknown)."""
    remote = _as_ip(request.META.get("REMOTE_ADDR", "") or "") or ""
    trusted = settings.TRUSTED_PROXY_COUNT
    if trusted <= 0:
        return remote
    forwarded = [
        part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
    ]
    if not forwarded:
        # Nothing was forwarded: the request did not come through the proxies.
        return remote
    # Fewer entries than proxies: the request skipped an outer proxy; the leftmost entry is
    # then the farthest address any proxy recorded.
    candidate = forwarded[-min(trusted, len(forwarded))]
    # A malformed entry can only come from a proxy's misconfiguration or a client's header
    # passed through; the nearest proxy's address is a conservative stand-in (one bucket).
    return _as_ip(candidate) or remote


def user_agent(request) -> str:
    """The client's ``User-Agent`` as stored in access logs: at most 512 characters, no NUL
    (PostgreSQL text cannot hold one)."""
    return request.META.get("HTTP_USER_AGENT", "").replace("\x00", "")[:512]
