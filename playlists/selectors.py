"""Reads: which playlists a user may see or edit, with every list field in a fixed query count."""

from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from rest_framework.exceptions import NotFound, PermissionDenied

from playlists.models import Playlist, PlaylistCollaborator, PlaylistTrack
from tracks.models import Track
from tracks.selectors import with_track_annotations


def _is_authenticated(user) -> bool:
    return bool(user is not None and user.is_authenticated)


def _is_admin(user) -> bool:
    return _is_authenticated(user) and user.is_admin


def visible_track_filter(user, prefix: str = "") -> Q:
    """Playlists never leak a private track to someone who could not open it directly, and a
    taken-down track leaves every playlist's track list (its owner reads it at its own URL)."""
    if _is_admin(user):
        return Q()
    visible = Q(**{f"{prefix}is_public": True})
    if _is_authenticated(user):
        visible |= Q(**{f"{prefix}creator": user})
    return visible & ~Q(**{f"{prefix}status": Track.Status.TAKEN_DOWN})


def _annotated(queryset: QuerySet, *, user) -> QuerySet:
    track_count = (
        PlaylistTrack.objects.filter(visible_track_filter(user, "track__"), playlist=OuterRef("pk"))
        .order_by()
        .values("playlist")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        queryset.select_related("owner")
        .annotate(track_count=Coalesce(Subquery(track_count, output_field=IntegerField()), 0))
        .prefetch_related(
            Prefetch(
                "collaborators",
                queryset=PlaylistCollaborator.objects.select_related("user").order_by("added_at"),
            )
        )
    )


def _visible_filter(user) -> Q:
    """A taken-down playlist is hidden from everyone but its owner and admins."""
    if _is_admin(user):
        return Q()
    visible = Q(is_public=True)
    if _is_authenticated(user):
        visible |= Exists(PlaylistCollaborator.objects.filter(playlist=OuterRef("pk"), user=user))
        return Q(visible, taken_down_at__isnull=True) | Q(owner=user)
    return Q(visible, taken_down_at__isnull=True)


def playlist_list(*, user) -> QuerySet:
    """Public playlists plus the caller's own and those it collaborates on (admins: all)."""
    return _annotated(Playlist.objects.filter(_visible_filter(user)), user=user)


def get_visible_playlist(*, pk, user, with_tracks: bool = True) -> Playlist:
    queryset = _annotated(Playlist.objects.filter(_visible_filter(user), pk=pk), user=user)
    if with_tracks:
        queryset = queryset.prefetch_related(
            Prefetch(
                "entries",
                queryset=PlaylistTrack.objects.filter(visible_track_filter(user, "track__"))
                .select_related("added_by")
                .order_by("position"),
            ),
            Prefetch(
                "entries__track",
                queryset=with_track_annotations(Track.objects.all(), user=user),
            ),
        )
    playlist = queryset.first()
    if playlist is None:
        raise NotFound("Playlist not found.")
    return playlist


def permission_of(*, playlist: Playlist, user) -> str | None:
    """``owner``, ``admin``, ``edit``, ``view`` or None (uses the prefetched collaborators)."""
    if not _is_authenticated(user):
        return None
    if playlist.owner_id == user.pk:
        return "owner"
    if user.is_admin:
        return "admin"
    for collaborator in playlist.collaborators.all():
        if collaborator.user_id == user.pk:
            return collaborator.permission
    return None


def check_can_edit_tracks(*, playlist: Playlist, user) -> None:
    if permission_of(playlist=playlist, user=user) not in ("owner", "admin", "edit"):
        raise PermissionDenied("Only the owner and edit collaborators may change the track list.")


def check_can_manage(*, playlist: Playlist, user) -> None:
    if permission_of(playlist=playlist, user=user) not in ("owner", "admin"):
        raise PermissionDenied("Only the playlist's owner may do this.")


def get_addable_track(*, track_id, user) -> Track:
    """A track the user may put in a playlist: public, or its own. 404 otherwise (no leak).

    Admins included: an admin may see a private track but must not publish it in a playlist.
    """
    track = (
        Track.objects.filter(Q(is_public=True) | Q(creator=user), pk=track_id)
        .exclude(status=Track.Status.TAKEN_DOWN)
        .first()
    )
    if track is None:
        raise NotFound("Track not found.")
    return track
