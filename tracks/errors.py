from rest_framework import status
from rest_framework.exceptions import APIException

from veza.exceptions import DomainError

# Shared with every upload (veza.uploads); named here too, as the track upload's refusals.
from veza.uploads import InfectedFile, InvalidFile, ScannerUnavailable

__all__ = [
    "AUDIO_TYPES_DETAIL",
    "FileMissing",
    "InfectedFile",
    "InvalidFile",
    "ScannerUnavailable",
    "TrackFailed",
    "UploadCapacityReached",
]


AUDIO_TYPES_DETAIL = "The file is not a supported audio file (mp3, wav, flac, ogg, m4a, aac)."


class UploadCapacityReached(APIException):
    """An APIException (not a DomainError) because DRF turns ``wait`` into ``Retry-After``."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "too_many_uploads"
    default_detail = "Too many uploads are in progress; try again shortly."

    def __init__(self, wait: int = 5):
        super().__init__()
        self.wait = wait


class TrackFailed(DomainError):
    code = "track_failed"
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This track failed processing; upload it again."


class FileMissing(DomainError):
    code = "file_missing"
    status_code = status.HTTP_404_NOT_FOUND
    default_detail = "This track has no stored file."
