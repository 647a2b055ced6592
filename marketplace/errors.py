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


class InvalidCountry(DomainError):
    code = "invalid_country"
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The country must be an ISO 3166-1 alpha-2 code (e.g. DE)."


class InvalidVatNumber(DomainError):
    code = "invalid_vat_number"
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "This is not a valid EU VAT number."


class BillingCountryRequired(DomainError):
    code = "billing_country_required"
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = (
        "The VAT of an order depends on the buyer's country: give a billing_country or set "
        "the country of your profile."
    )
