"""Reads: who may see, change or download which track, and the annotated list querysets."""

import functools
import logging
from collections.abc import Callable

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Value
from django.utils import timezone
from rest_framework.exceptions import NotFound, PermissionDenied

from tracks.models import Play, Track, TrackChange, TrackLike, TrackShare

logger = logging.getLogger(__name__)


def _is_authenticated(user) -> bool:
    return bool(user is not None and user.is_authenticated)


def with_track_annotations(queryset: QuerySet, *, user) -> QuerySet:
    """``liked_by_me`` as an EXISTS subquery (``like_count`` is a column): one query, no
    GROUP BY, no query per row."""
    if _is_authenticated(user):
        liked_by_me = Exists(TrackLike.objects.filter(track=OuterRef("pk"), user=user))
    else:
        liked_by_me = Value(False)
    return queryset.select_related("creator").annotate(liked_by_me=liked_by_me)


PUBLIC_READY = Q(is_public=True, status=Track.Status.READY)


def track_list(*, user, owns_hidden: bool = True) -> QuerySet:
    """Public ready tracks, plus every track of the caller.

    ``owns_hidden=False`` (the caller owns no track outside the public ready set, see
    ``owns_hidden_track``) drops the caller's branch: the same rows, and a plain filter the
    list's partial indexes serve."""
    visible = PUBLIC_READY
    if _is_authenticated(user) and owns_hidden:
        visible = visible | Q(creator=user)
    return with_track_annotations(Track.objects.filter(visible), user=user)


def track_list_rows(*, user, owns_hidden: bool = True, columns) -> QuerySet:
    """``track_list`` as plain rows (``values(*columns)``) for the lean list: the same rows
    and ``liked_by_me`` (signed in only; a visitor likes nothing), built with fewer clones."""
    if not _is_authenticated(user):
        return _public_rows(tuple(columns)).all()
    visible = PUBLIC_READY | Q(creator=user) if owns_hidden else PUBLIC_READY
    queryset = Track.objects.filter(visible)
    liked_by_me = Exists(TrackLike.objects.filter(track=OuterRef("pk"), user=user))
    return queryset.annotate(liked_by_me=liked_by_me).values(*columns, "liked_by_me")


@functools.cache
def _public_rows(columns: tuple[str, ...]) -> QuerySet:
    """A visitor's rows, built once per process and cloned (``.all()``) for each request:
    resolving the filter and the columns is a third of building the query. Never evaluated
    itself, so it holds no rows."""
    return Track.objects.filter(PUBLIC_READY).values(*columns)


def owns_hidden_track(*, user) -> bool:
    """Whether the caller owns a track a visitor cannot see (private, or not ready)."""
    return Track.objects.filter(creator=user).exclude(PUBLIC_READY).exists()


# Other apps refuse uploads without tracks knowing them: moderation registers "the audio
# matches a recording taken down for copyright" at start-up (its AppConfig.ready()).
UploadCheck = Callable[..., None]
_upload_checks: list[UploadCheck] = []


def register_upload_check(check: UploadCheck) -> None:
    """``check(upload=..., creator=...)`` raises a DomainError to refuse an upload."""
    if check not in _upload_checks:
        _upload_checks.append(check)


def run_upload_checks(*, upload, creator) -> None:
    for check in _upload_checks:
        check(upload=upload, creator=creator)


def liked_among(*, user, track_ids) -> set:
    """Which of ``track_ids`` the caller likes: one query, whatever the page's size."""
    return set(
        TrackLike.objects.filter(user=user, track_id__in=track_ids).values_list(
            "track_id", flat=True
        )
    )


def can_view(*, track: Track, user) -> bool:
    """Public tracks to everyone; private and taken-down ones to their owner and admins."""
    if track.is_public and track.status != Track.Status.TAKEN_DOWN:
        return True
    return _is_authenticated(user) and (user.is_admin or track.creator_id == user.pk)


def can_manage(*, track: Track, user) -> bool:
    return _is_authenticated(user) and (user.is_admin or track.creator_id == user.pk)


def get_visible_track(*, pk, user) -> Track:
    """The track, annotated; 404 when it does not exist or is private to someone else."""
    track = with_track_annotations(Track.objects.filter(pk=pk), user=user).first()
    if track is None or not can_view(track=track, user=user):
        raise NotFound("Track not found.")
    return track


def get_manageable_track(*, pk, user) -> Track:
    """For owner/admin actions: 404 if the caller may not see it, 403 if only see it."""
    track = get_visible_track(pk=pk, user=user)
    if not can_manage(track=track, user=user):
        raise PermissionDenied("Only the track's owner or an admin may do this.")
    return track


def get_owned_track(*, pk, user) -> Track:
    track = get_visible_track(pk=pk, user=user)
    if not (_is_authenticated(user) and track.creator_id == user.pk):
        raise PermissionDenied("Only the track's owner may do this.")
    return track


# Other apps grant downloads without tracks knowing them: the marketplace registers "holds
# an active licence on a product of this track" at start-up (its AppConfig.ready()).
DownloadGrant = Callable[..., bool]
_download_grants: list[DownloadGrant] = []


def register_download_grant(grant: DownloadGrant) -> None:
    """``grant(user=..., track=...) -> bool``: one more reason a user may download a track."""
    if grant not in _download_grants:
        _download_grants.append(grant)


def granted_by_another_app(*, user, track: Track) -> bool:
    if not _is_authenticated(user):
        return False
    return any(grant(user=user, track=track) for grant in _download_grants)


def can_download(*, track: Track, user) -> bool:
    if track.status == Track.Status.TAKEN_DOWN:
        # Its audio stays stored for an appeal; only admins (the evidence) may fetch it.
        return _is_authenticated(user) and user.is_admin
    if can_manage(track=track, user=user):
        return True
    if track.is_public and track.is_downloadable:
        return True
    return granted_by_another_app(user=user, track=track)


def get_downloadable_track(*, pk, user) -> Track:
    """404 when the caller may not know the track; 403 when it may see but not download it."""
    track = Track.objects.filter(pk=pk).first()
    if track is None:
        raise NotFound("Track not found.")
    if can_download(track=track, user=user):
        return track
    if can_view(track=track, user=user):
        raise PermissionDenied("This track is not downloadable.")
    raise NotFound("Track not found.")


def get_shared_track(*, token: str, user) -> Track:
    share = (
        TrackShare.objects.filter(
            token=token, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )
        .only("track_id")
        .first()
    )
    if share is None:
        raise NotFound("This share link does not exist, was revoked or has expired.")
    track = with_track_annotations(Track.objects.filter(pk=share.track_id), user=user).get()
    if track.status == Track.Status.TAKEN_DOWN and not can_manage(track=track, user=user):
        raise NotFound("This share link does not exist, was revoked or has expired.")
    return track


def get_share_for_revocation(*, share_id, user) -> TrackShare:
    share = TrackShare.objects.select_related("track").filter(pk=share_id).first()
    if share is None or not can_view(track=share.track, user=user):
        raise NotFound("Share not found.")
    if not can_manage(track=share.track, user=user):
        raise PermissionDenied("Only the track's owner may revoke its share links.")
    return share


def track_likers(*, track: Track) -> QuerySet:
    from accounts.models import User

    return User.objects.filter(track_likes__track=track).order_by("-track_likes__created_at")


def track_stats(*, track: Track) -> dict[str, int]:
    counts = Track.objects.filter(pk=track.pk).aggregate(
        likes=Count("likes", distinct=True), shares=Count("shares", distinct=True)
    )
    return {
        "plays": track.play_count,
        "likes": counts["likes"],
        "shares": counts["shares"],
        "downloads": track.download_count,
    }


def track_history(*, track: Track) -> QuerySet:
    return TrackChange.objects.filter(track=track).select_related("changed_by")


def listening_history(*, user) -> QuerySet:
    """The user's plays, newest first, of tracks the user may still see."""
    plays = Play.objects.filter(user=user).select_related("track__creator")
    if not user.is_admin:
        plays = plays.filter(
            Q(track__is_public=True) & ~Q(track__status=Track.Status.TAKEN_DOWN)
            | Q(track__creator=user)
        )
    return plays.order_by("-played_at", "-id")
