from rest_framework import status

from veza.exceptions import DomainError


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = "Invalid email or password."


class InvalidToken(DomainError):
    code = "invalid_token"
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "This link is invalid or has expired."


class RoleChangeForbidden(DomainError):
    code = "role_change_forbidden"
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "Only an administrator may change a role, and never their own."


class AccountTaken(DomainError):
    code = "account_taken"
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "An account with this email or username already exists."


class SessionNotFound(DomainError):
    code = "not_found"
    status_code = status.HTTP_404_NOT_FOUND
    default_detail = "No such session."


class AccountSuspended(DomainError):
    code = "account_suspended"
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = (
        "This account is suspended from uploading and selling after repeated copyright "
        "takedowns. The emailed statement of reasons says how to appeal."
    )
