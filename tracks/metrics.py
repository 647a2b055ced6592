from prometheus_client import Counter

tracks_uploaded = Counter("veza_tracks_uploaded_total", "Tracks accepted by the upload endpoint.")
