from typing import Any

from django.db import models

from audit.models import AuditLog
from veza.client_ip import client_ip as _client_ip


def client_ip(request) -> str | None:
    """The client's address as ``veza.client_ip`` decides it (None without a request)."""
    if request is None:
        return None
    return _client_ip(request) or None


def _user_agent(request) -> str:
    if request is None:
        return ""
    # A header is the client's string: PostgreSQL text cannot hold a NUL.
    return request.META.get("HTTP_USER_AGENT", "").replace("\x00", "")[:512]


def staff_groups(actor) -> str:
    """The actor's staff groups, comma-separated ("" for a user in none)."""
    if actor is None or actor.pk is None or not getattr(actor, "is_staff", False):
        return ""
    return ", ".join(sorted(actor.groups.values_list("name", flat=True)))[:255]


def record(
    *,
    action: str,
    actor=None,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str = "",
    request=None,
    details: dict[str, Any] | None = None,
) -> AuditLog:
    """Append one audit entry. ``request`` supplies IP and user agent (and the actor if unset)."""
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or str(target.pk)
    return AuditLog.objects.create(
        actor=actor,
        actor_role=getattr(actor, "role", "") or "",
        actor_groups=staff_groups(actor),
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        ip_address=client_ip(request),
        user_agent=_user_agent(request),
        details=details or {},
    )
