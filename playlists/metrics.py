from prometheus_client import Counter

playlists_created = Counter("veza_playlists_created_total", "Playlists created.")
