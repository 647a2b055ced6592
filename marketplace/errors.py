from rest_framework import status

from veza.exceptions import DomainError


class InvalidOrder(DomainError):
    code = "invalid_order"
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "This order cannot be placed."


class PaymentProviderError(DomainError):
    code = "psp_error"
    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = "The payment provider refused the request."


class NotLicensed(DomainError):
    code = "no_active_license"
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "You need an active licence for this product."
