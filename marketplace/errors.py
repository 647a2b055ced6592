from rest_framework import status

from veza.exceptions import DomainError


class InvalidOrder(DomainError):
    code = "invalid_order"
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "This order cannot be placed."


class NotLicensed(DomainError):
    code = "no_active_license"
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "You need an active licence for this product."


class DownloadLinkInvalid(DomainError):
    code = "permission_denied"
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "This download link is invalid."


class NoFileForTrackProduct(DomainError):
    code = "track_product_file"
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = (
        "A track product delivers its track's audio; upload files to pack, sample or "
        "license products."
    )


class FileMissing(DomainError):
    code = "not_found"
    status_code = status.HTTP_404_NOT_FOUND
    default_detail = "The file is missing."
