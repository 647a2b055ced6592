"""Where a webhook may be sent: never to this network's own machines (SSRF).

Checked when an endpoint is registered (a 400) and again at every delivery, on the addresses
the name resolves to *then* — a name that resolved to a public address at registration may
point at 127.0.0.1 or the cloud metadata service later (DNS rebinding). The delivery
connects to the address that was checked, never resolving the name a second time.
"""

import ipaddress
from dataclasses import dataclass
from socket import SOCK_STREAM, getaddrinfo
from urllib.parse import urlsplit

from django.conf import settings

from veza.exceptions import DomainError


class TargetRefused(DomainError):
    code = "webhook_target_refused"
    status_code = 400
    default_detail = "This webhook URL is not allowed."


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    addresses: list[IPAddress]


def private_targets_allowed() -> bool:
    # Refused at start-up in production (veza.config); checked again here all the same.
    return settings.WEBHOOK_ALLOW_PRIVATE_TARGETS and not settings.IS_PRODUCTION


def is_forbidden_address(address: IPAddress) -> bool:
    """Loopback, private, link-local (169.254.169.254 is the metadata service), CGNAT,
    unspecified, multicast, reserved: anything but a global unicast address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def parse(url: str) -> tuple[str, str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused("The webhook URL is not a valid URL.") from exc
    scheme = parts.scheme.lower()
    allowed = ("https",) if settings.IS_PRODUCTION else ("https", "http")
    if scheme not in allowed:
        raise TargetRefused(f"The webhook URL must use {' or '.join(allowed)}.")
    if not parts.hostname:
        raise TargetRefused("The webhook URL has no host.")
    if parts.username or parts.password:
        raise TargetRefused("The webhook URL must not carry credentials.")
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80)


def resolve(url: str) -> Target:
    """The URL's addresses, each one checked; raises ``TargetRefused``."""
    scheme, host, port = parse(url)
    try:
        infos = getaddrinfo(host, port, type=SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as exc:
        raise TargetRefused(f"The webhook host {host!r} does not resolve.") from exc
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise TargetRefused(f"The webhook host {host!r} does not resolve.")
    if not private_targets_allowed():
        for address in addresses:
            if is_forbidden_address(address):
                raise TargetRefused(
                    f"The webhook host {host!r} resolves to a loopback, private, link-local "
                    "or reserved address."
                )
    return Target(scheme=scheme, host=host, port=port, addresses=addresses)
