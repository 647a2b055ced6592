from prometheus_client import Counter

tracks_uploaded = Counter("veza_tracks_uploaded_total", "Tracks accepted by the upload endpoint.")
# The seed's dashboards read these names.
file_uploads = Counter("veza_file_uploads_total", "Files accepted by an upload endpoint.", ["kind"])
uploads_failed = Counter(
    "veza_uploads_failed_total", "Uploads refused, by reason (the error code).", ["kind", "reason"]
)


def upload_accepted(kind: str = "track") -> None:
    if kind == "track":
        tracks_uploaded.inc()
    file_uploads.labels(kind=kind).inc()
