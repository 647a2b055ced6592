from prometheus_client import Counter

from veza.uploads import file_uploads, uploads_failed

__all__ = ["file_uploads", "tracks_uploaded", "upload_accepted", "uploads_failed"]

tracks_uploaded = Counter("veza_tracks_uploaded_total", "Tracks accepted by the upload endpoint.")


def upload_accepted(kind: str = "track") -> None:
    if kind == "track":
        tracks_uploaded.inc()
    file_uploads.labels(kind=kind).inc()
