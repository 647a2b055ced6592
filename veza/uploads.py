"""What every uploaded file goes through before it is stored, whatever it is for: the size
limit, a look at its first bytes, and the ClamAV scan. Each app decides which types it takes
(``tracks.audio_formats``, ``marketplace.product_files``); the refusals are the same."""

import logging

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from prometheus_client import Counter
from rest_framework import status

from veza.clamav import ClamdUnavailable, scan_stream
from veza.exceptions import DomainError

logger = logging.getLogger(__name__)

# The seed's dashboards read these names; ``kind`` is what the file is for (track, product).
file_uploads = Counter("veza_file_uploads_total", "Files accepted by an upload endpoint.", ["kind"])
uploads_failed = Counter(
    "veza_uploads_failed_total", "Uploads refused, by reason (the error code).", ["kind", "reason"]
)

HEADER_BYTES = 16
# Room for the multipart envelope and the form fields around the file itself.
MULTIPART_OVERHEAD = 1024 * 1024


class InvalidFile(DomainError):
    code = "invalid_file"
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The file is not of an accepted type."


class InfectedFile(DomainError):
    code = "infected_file"
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The virus scanner rejected this file."


class ScannerUnavailable(DomainError):
    code = "scanner_unavailable"
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The virus scanner is unavailable; try again later."


def check_declared_size(content_length: str | None) -> None:
    """Refuse a body that announces more than the limit, before spooling any of it."""
    try:
        declared = int(content_length or 0)
    except ValueError:
        return
    if declared > settings.MAX_UPLOAD_SIZE + MULTIPART_OVERHEAD:
        raise InvalidFile(f"The file is larger than {settings.MAX_UPLOAD_SIZE} bytes.")


def check_size(upload: UploadedFile) -> None:
    if not upload.size:
        raise InvalidFile("The file is empty.")
    if upload.size > settings.MAX_UPLOAD_SIZE:
        raise InvalidFile(f"The file is larger than {settings.MAX_UPLOAD_SIZE} bytes.")


def read_head(upload: UploadedFile, size: int = HEADER_BYTES) -> bytes:
    upload.seek(0)
    head = upload.read(size)
    upload.seek(0)
    return head


def scan(upload: UploadedFile) -> bool:
    """Run ClamAV when configured: True when it found the file clean, False when the file
    went unscanned (no scanner configured, or down while ``CLAMAV_REQUIRED=false``).
    Raises ``InfectedFile``, or ``ScannerUnavailable`` when the scan is required."""
    if not settings.CLAMAV_ADDRESS:
        return False
    upload.seek(0)
    try:
        result = scan_stream(
            address=settings.CLAMAV_ADDRESS,
            chunks=upload.chunks(),
            timeout=settings.CLAMAV_TIMEOUT,
        )
    except ClamdUnavailable as exc:
        if settings.CLAMAV_REQUIRED:
            logger.error("ClamAV unavailable, upload refused: %s", exc)
            raise ScannerUnavailable() from exc
        logger.warning("ClamAV unavailable, upload accepted unscanned: %s", exc)
        return False
    finally:
        upload.seek(0)
    if result.infected:
        logger.warning("ClamAV flagged an upload: %s", result.signature)
        raise InfectedFile()
    return True
