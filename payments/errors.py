from rest_framework import status

from veza.exceptions import DomainError


class RefundForbidden(DomainError):
    code = "permission_denied"
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "Only the buyer, a seller of the order or an admin may request a refund."


class RefundAlreadyRequested(DomainError):
    code = "refund_already_requested"
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "A refund for this order is already in progress."


class OrderNotRefundable(DomainError):
    code = "order_not_refundable"
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "This order cannot be refunded."


class RefundWindowExpired(DomainError):
    code = "refund_window_expired"
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The refund window of this order has expired."


class ProviderRefused(DomainError):
    code = "psp_error"
    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = "The payment provider refused the request."


class InvalidSignature(DomainError):
    code = "invalid_signature"
    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = "Missing or invalid webhook signature."


class MalformedWebhook(DomainError):
    code = "malformed_payload"
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The webhook body must be a JSON object."


class OrderNotFound(DomainError):
    code = "not_found"
    status_code = status.HTTP_404_NOT_FOUND
    default_detail = "Not found."


class OrderDisputed(DomainError):
    code = "order_disputed"
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "This order has an open dispute: the chargeback already returns the money."


class InvalidRefundItems(DomainError):
    code = "invalid_refund_items"
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Some of these items cannot be refunded."


class RefundNotAwaitingApproval(DomainError):
    code = "refund_not_awaiting_approval"
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "This refund is not waiting for approval."


class OwnRefundApproval(DomainError):
    code = "own_refund_approval"
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = (
        "You opened this refund: a second Finance member must approve or reject it (four eyes)."
    )


class RefundNotFound(DomainError):
    code = "not_found"
    status_code = status.HTTP_404_NOT_FOUND
    default_detail = "No such refund."


class WindowOverrideForbidden(DomainError):
    code = "window_override_forbidden"
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = (
        "Refunding after the refund window needs the payments.override_refund_window permission."
    )


class DisputeManagementForbidden(DomainError):
    code = "permission_denied"
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = (
        "Re-submitting evidence or accepting a dispute needs the payments.manage_dispute "
        "permission."
    )


class DisputeClosed(DomainError):
    code = "dispute_closed"
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This dispute is closed."


class EvidenceNotAccepted(DomainError):
    code = "evidence_not_accepted"
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Evidence can no longer be sent for this dispute."


class EvidenceInProgress(DomainError):
    code = "evidence_in_progress"
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The evidence is being sent right now; try again in a few minutes."
