"""The admin request being served, so that model signals can say who changed what, and from
where. Set by ``audit.middleware.AdminAuditMiddleware`` for ``/admin/`` requests only."""

from contextvars import ContextVar
from dataclasses import dataclass, field

ADMIN_PATH = "/admin/"


@dataclass
class AdminRequest:
    request: object
    # (model label, pk) → {field: old value} captured before an admin save.
    before: dict[tuple[str, str], dict] = field(default_factory=dict)
    # (model label, pk) → {field: {"old", "new"}} once saved.
    changes: dict[tuple[str, str], dict] = field(default_factory=dict)


current_admin_request: ContextVar[AdminRequest | None] = ContextVar(
    "current_admin_request", default=None
)


def is_admin_request(request) -> bool:
    return request is not None and getattr(request, "path", "").startswith(ADMIN_PATH)
