from rest_framework import status

from veza.exceptions import DomainError


class EmailNotVerified(DomainError):
    code = "email_not_verified"
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "Verify your email address before creating API keys or webhooks."
