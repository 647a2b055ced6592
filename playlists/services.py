"""Writes. Every change to a playlist's track list runs in one transaction holding the
playlist row (``SELECT ... FOR UPDATE``), so concurrent edits serialise and positions stay
dense: 0..n-1 after any insert, append or removal."""

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from rest_framework.exceptions import NotFound

from playlists import errors, metrics
from playlists.models import Playlist, PlaylistCollaborator, PlaylistTrack
from tracks.models import Track
from veza.events import emit

EDITABLE_FIELDS = ("title", "description", "is_public")


def create_playlist(
    *, owner, title: str, description: str = "", is_public: bool = True
) -> Playlist:
    playlist = Playlist.objects.create(
        owner=owner, title=title, description=description, is_public=is_public
    )
    transaction.on_commit(metrics.playlists_created.inc)
    return playlist


def update_playlist(*, playlist: Playlist, data: dict[str, Any]) -> Playlist:
    fields = [field for field in EDITABLE_FIELDS if field in data]
    for field in fields:
        setattr(playlist, field, data[field])
    if fields:
        with transaction.atomic():
            playlist.save(update_fields=[*fields, "updated_at"])
            emit("playlist.updated", playlist)
    return playlist


def delete_playlist(*, playlist: Playlist) -> None:
    playlist.delete()


def _lock(playlist: Playlist) -> Playlist:
    # Locking the parent row (not the entries) also serialises inserts into an empty list.
    return Playlist.objects.select_for_update().get(pk=playlist.pk)


def add_track(
    *, playlist: Playlist, track: Track, added_by, position: int | None = None
) -> PlaylistTrack:
    """Insert at ``position`` (shifting later tracks down) or append; beyond the end appends."""
    if position is not None and position < 0:
        raise ValueError("position must be >= 0")
    with transaction.atomic():
        locked = _lock(playlist)
        entries = PlaylistTrack.objects.filter(playlist=locked)
        if entries.filter(track=track).exists():
            raise errors.TrackAlreadyInPlaylist()
        size = entries.count()
        if position is None or position > size:
            position = size
        entries.filter(position__gte=position).update(position=F("position") + 1)
        try:
            with transaction.atomic():
                entry = PlaylistTrack.objects.create(
                    playlist=locked, track=track, position=position, added_by=added_by
                )
        except IntegrityError as exc:  # the UNIQUE (playlist, track) backstop
            raise errors.TrackAlreadyInPlaylist() from exc
        locked.save(update_fields=["updated_at"])
        emit("playlist.updated", locked)
    return entry


def remove_track(*, playlist: Playlist, track_id) -> None:
    with transaction.atomic():
        locked = _lock(playlist)
        entry = PlaylistTrack.objects.filter(playlist=locked, track_id=track_id).first()
        if entry is None:
            raise NotFound("This track is not in the playlist.")
        entry.delete()
        PlaylistTrack.objects.filter(playlist=locked, position__gt=entry.position).update(
            position=F("position") - 1
        )
        locked.save(update_fields=["updated_at"])
        emit("playlist.updated", locked)


def set_collaborator(
    *, playlist: Playlist, user, permission: str
) -> tuple[PlaylistCollaborator, bool]:
    """Add the collaborator or change its permission; (collaborator, created)."""
    if user.pk == playlist.owner_id:
        raise errors.OwnerCannotCollaborate()
    with transaction.atomic():
        _lock(playlist)
        return PlaylistCollaborator.objects.update_or_create(
            playlist=playlist, user=user, defaults={"permission": permission}
        )


def remove_collaborator(*, playlist: Playlist, user_id) -> None:
    deleted, _ = PlaylistCollaborator.objects.filter(playlist=playlist, user_id=user_id).delete()
    if not deleted:
        raise NotFound("This user is not a collaborator of the playlist.")


def set_taken_down(*, playlist: Playlist, when) -> bool:
    """A moderator hides (``when``) or restores (None) the playlist; True when it changed."""
    filters = {"taken_down_at__isnull": when is not None}
    return bool(Playlist.objects.filter(pk=playlist.pk, **filters).update(taken_down_at=when))
