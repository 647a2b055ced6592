from rest_framework import status

from veza.exceptions import DomainError


class ExportInProgress(DomainError):
    code = "export_in_progress"
    status_code = status.HTTP_409_CONFLICT
    default_detail = "An export of your data is already being built."


class ExportLinkInvalid(DomainError):
    code = "export_link_invalid"
    status_code = status.HTTP_404_NOT_FOUND
    default_detail = "This download link is not valid."


class ExportExpired(DomainError):
    code = "export_expired"
    status_code = status.HTTP_410_GONE
    default_detail = "This export has expired; request a new one."


class InvalidPassword(DomainError):
    code = "invalid_password"
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "The password is not correct."


class BalanceNotSettled(DomainError):
    """Carries ``remaining``: what still ties the account to money (see privacy.erasure)."""

    code = "balance_not_settled"
    status_code = status.HTTP_409_CONFLICT
    default_detail = (
        "The account still has seller money, a payout in flight or an open dispute; it can "
        "be erased once they are settled."
    )
