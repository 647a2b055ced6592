"""Demo playlists with tracks and collaborators, keyed by owner and title (idempotent)."""

from playlists import services
from playlists.models import Playlist, PlaylistCollaborator, PlaylistTrack
from tracks.models import Track
from tracks.seed import BULK_TITLE_PREFIX, demo_users

TRACKS_PER_PLAYLIST = 5


def seed_playlists(scale: int = 1) -> None:
    users = list(demo_users().order_by("username"))
    if not users:
        return
    tracks = list(
        Track.objects.filter(is_public=True, status=Track.Status.READY, creator__in=users)
        .exclude(title__startswith=BULK_TITLE_PREFIX)
        .order_by("title")
    )
    for n, owner in enumerate(users):
        name = owner.display_name or owner.username
        for title, is_public in ((f"{name}'s favourites", True), (f"{name}'s drafts", False)):
            playlist, _ = Playlist.objects.get_or_create(
                owner=owner,
                title=title,
                defaults={"is_public": is_public, "description": "Seeded demo playlist."},
            )
            present = set(
                PlaylistTrack.objects.filter(playlist=playlist).values_list("track_id", flat=True)
            )
            for track in tracks[n % max(len(tracks), 1) :][:TRACKS_PER_PLAYLIST]:
                if track.pk not in present:
                    services.add_track(playlist=playlist, track=track, added_by=owner)
            others = [u for u in users if u.pk != owner.pk]
            if not others or PlaylistCollaborator.objects.filter(playlist=playlist).exists():
                continue
            services.set_collaborator(
                playlist=playlist,
                user=others[n % len(others)],
                permission=PlaylistCollaborator.Permission.EDIT,
            )
            if len(others) > 1:
                services.set_collaborator(
                    playlist=playlist,
                    user=others[(n + 1) % len(others)],
                    permission=PlaylistCollaborator.Permission.VIEW,
                )


STEPS = [("playlists", seed_playlists)]
