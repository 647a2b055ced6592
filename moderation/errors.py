from rest_framework import status

from veza.exceptions import DomainError


class BlockedContent(DomainError):
    code = "blocked_content"
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = (
        "This recording was taken down for copyright infringement and may not be uploaded again."
    )


class StatementIncomplete(DomainError):
    code = "statement_incomplete"
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = (
        "A take-down needs a complete statement of reasons: the ground (`law` or `terms`), the "
        "provision or clause, and the facts (`explanation`); a dismissal needs a reason."
    )


class AlreadyDecided(DomainError):
    code = "already_decided"
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This has already been decided."


class AppealNotAllowed(DomainError):
    code = "appeal_not_allowed"
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This decision can no longer be appealed."


class SameModerator(DomainError):
    code = "same_moderator"
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "An appeal is decided by a moderator other than the one who took the decision."
