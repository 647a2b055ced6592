"""The EU's VAT Information Exchange System (VIES), through its REST API: is this VAT number
registered? The service's vocabulary is translated here, once.

``POST {VIES_URL}/check-vat-number`` with ``{"countryCode", "vatNumber"}`` answers
``{"valid": bool, "userError": ..., "name", "address", ...}``. A member state's register being
down comes back as ``valid: false`` with a ``userError`` such as ``MS_UNAVAILABLE``: that
says nothing about the number, so it counts as unavailable, like a timeout or a 5xx.
"""

import enum
import logging

import httpx
from django.conf import settings

logger = logging.getLogger(__name__)

# userError values of VIES meaning "could not check", not "invalid".
NOT_CHECKED = frozenset(
    {
        "MS_UNAVAILABLE",
        "TIMEOUT",
        "SERVICE_UNAVAILABLE",
        "MS_MAX_CONCURRENT_REQ",
        "GLOBAL_MAX_CONCURRENT_REQ",
    }
)


class ViesOutcome(enum.Enum):
    VALID = "valid"
    INVALID = "invalid"
    UNAVAILABLE = "unavailable"


def check_vat_number(*, country_code: str, vat_number: str) -> ViesOutcome:
    """Ask VIES about ``vat_number`` (without its prefix) of ``country_code`` (its VAT prefix,
    ``EL`` for Greece). Never raises: whatever goes wrong is ``UNAVAILABLE``."""
    url = f"{settings.VIES_URL}/check-vat-number"
    try:
        response = httpx.post(
            url,
            json={"countryCode": country_code, "vatNumber": vat_number},
            timeout=settings.VIES_TIMEOUT,
        )
    except httpx.HTTPError as exc:
        logger.warning("VIES unreachable for %s%s: %s", country_code, vat_number, exc)
        return ViesOutcome.UNAVAILABLE
    if response.status_code != 200:
        logger.warning("VIES answered %s for %s%s", response.status_code, country_code, vat_number)
        return ViesOutcome.UNAVAILABLE
    try:
        body = response.json()
    except ValueError:
        return ViesOutcome.UNAVAILABLE
    if not isinstance(body, dict) or not isinstance(body.get("valid"), bool):
        return ViesOutcome.UNAVAILABLE
    if body["valid"]:
        return ViesOutcome.VALID
    if body.get("userError") in NOT_CHECKED:
        logger.warning("VIES could not check %s%s: %s", country_code, vat_number, body["userError"])
        return ViesOutcome.UNAVAILABLE
    return ViesOutcome.INVALID
