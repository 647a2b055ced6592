from django.core.exceptions import PermissionDenied

from audit.context import AdminRequest, current_admin_request, is_admin_request
from audit.services import record


class AdminAuditMiddleware:
    """Exposes the admin request to the audit signals, and audits the admin's refusals."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_admin_request(request):
            return self.get_response(request)
        token = current_admin_request.set(AdminRequest(request=request))
        try:
            return self.get_response(request)
        finally:
            current_admin_request.reset(token)

    def process_exception(self, request, exception):
        if isinstance(exception, PermissionDenied) and is_admin_request(request):
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                record(
                    action="admin.refused",
                    request=request,
                    details={
                        "attempt": f"{request.method} {request.path}",
                        "reason": str(exception) or "permission denied",
                    },
                )
        return None
