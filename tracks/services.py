"""Writes: upload, edit with history, delete, likes, shares, stream-ready, plays, sweeps."""

import logging
import secrets
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import BigIntegerField, Count, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from accounts.services import check_can_publish
from audit import services as audit
from tracks import errors, list_cache, metrics, selectors
from tracks.audio_formats import detect_format
from tracks.models import (
    Play,
    PlayBatch,
    Track,
    TrackChange,
    TrackDownload,
    TrackLike,
    TrackShare,
)
from veza import uploads
from veza.events import emit
from veza.exceptions import DomainError

logger = logging.getLogger(__name__)

EDITABLE_FIELDS = (
    "title",
    "artist",
    "album",
    "genre",
    "description",
    "is_public",
    "is_downloadable",
)
DEFAULT_SHARE_HOURS = 72


# The track upload view calls these before the body is parsed.
check_declared_upload_size = uploads.check_declared_size
check_can_publish = check_can_publish


def validate_audio_upload(upload: UploadedFile) -> str:
    """The upload's format, or ``InvalidFile`` for a bad extension, content, size or emptiness."""
    uploads.check_size(upload)
    track_format = detect_format(filename=upload.name or "", head=uploads.read_head(upload))
    if track_format is None:
        raise errors.InvalidFile(errors.AUDIO_TYPES_DETAIL)
    return track_format


def scan_upload(upload: UploadedFile) -> str:
    """Run ClamAV when configured; the resulting ``Track.ScanStatus``."""
    clean = uploads.scan(upload)
    return Track.ScanStatus.CLEAN if clean else Track.ScanStatus.UNSCANNED


def upload_track(
    *,
    creator,
    upload: UploadedFile,
    title: str,
    artist: str = "",
    album: str = "",
    genre: str = "",
    description: str = "",
    is_public: bool = True,
    is_downloadable: bool = False,
) -> Track:
    """Validate, scan, store (streamed in chunks) and record a new track, or leave nothing."""
    check_can_publish(creator)
    try:
        track_format = validate_audio_upload(upload)
        scan_status = scan_upload(upload)  # before storing: an infected file never touches storage
        # Other apps' refusals (a recording taken down for copyright), before storing too.
        selectors.run_upload_checks(upload=upload, creator=creator)
    except DomainError as exc:
        metrics.uploads_failed.labels(kind="track", reason=exc.code).inc()
        raise

    track_id = uuid.uuid4()
    # Storage.save copies the upload chunk by chunk; it is never read whole into memory.
    stored_name = default_storage.save(f"tracks/{creator.pk}/{track_id}.{track_format}", upload)
    try:
        with transaction.atomic():
            track = Track.objects.create(
                id=track_id,
                creator=creator,
                title=title,
                artist=artist,
                album=album,
                genre=genre,
                description=description,
                is_public=is_public,
                is_downloadable=is_downloadable,
                format=track_format,
                file_size=upload.size,
                file=stored_name,
                status=Track.Status.PROCESSING,
                scan_status=scan_status,
            )
            # Its owner's list shows it at once (the shared page is for owners of nothing
            # hidden, and a processing track is hidden).
            list_cache.catalogue_changed()
    except Exception:
        default_storage.delete(stored_name)
        raise
    transaction.on_commit(metrics.upload_accepted)
    logger.info(
        "track %s uploaded by %s (%s, %d bytes)",
        track.pk,
        creator.pk,
        track_format,
        track.file_size,
    )
    return track


def _jsonable(value: Any) -> Any:
    return value if value is None or isinstance(value, bool | int | float | str) else str(value)


def _apply_changes(*, track: Track, changes: dict[str, Any], changed_by) -> Track:
    """Set the fields that differ, save them and log one history entry. Call inside atomic."""
    diff = {}
    for field, new in changes.items():
        old = getattr(track, field)
        if old != new:
            diff[field] = {"from": _jsonable(old), "to": _jsonable(new)}
            setattr(track, field, new)
    if diff:
        if "status" in diff:
            track.status_changed_at = timezone.now()
        track.save(update_fields=[*diff, "status_changed_at", "updated_at"])
        TrackChange.objects.create(track=track, changed_by=changed_by, changes=diff)
        list_cache.catalogue_changed()
    return track


def update_track(*, track: Track, changed_by, data: dict[str, Any]) -> Track:
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    with transaction.atomic():
        locked = Track.objects.select_for_update().get(pk=track.pk)
        _apply_changes(track=locked, changes=data, changed_by=changed_by)
    return locked


def delete_track(*, track: Track, deleted_by, request=None) -> None:
    file_name = track.file.name
    with transaction.atomic():
        audit.record(
            action="track.delete",
            actor=deleted_by,
            target=track,
            request=request,
            details={"title": track.title, "creator_id": str(track.creator_id)},
        )
        emit("track.deleted", track)  # before the row goes: the event describes it
        track.delete()
        list_cache.catalogue_changed()
        if file_name:
            transaction.on_commit(lambda: default_storage.delete(file_name))


def like_track(*, track: Track, user) -> bool:
    """Like once; True when this call created the like (the database enforces "once").

    ``Track.like_count`` moves by one in the same transaction as the like row, with F() so
    concurrent likes add up instead of overwriting each other."""
    if TrackLike.objects.filter(track=track, user=user).exists():
        return False
    try:
        with transaction.atomic():
            TrackLike.objects.create(track=track, user=user)
            Track.objects.filter(pk=track.pk).update(like_count=F("like_count") + 1)
            list_cache.catalogue_changed()
    except IntegrityError:  # a concurrent request won the race
        return False
    return True


def unlike_track(*, track: Track, user) -> None:
    with transaction.atomic():
        removed, _ = TrackLike.objects.filter(track=track, user=user).delete()
        if removed:
            Track.objects.filter(pk=track.pk, like_count__gt=0).update(
                like_count=F("like_count") - 1
            )
            list_cache.catalogue_changed()


def create_share(*, track: Track, created_by, expires_in_hours: int | None = None) -> TrackShare:
    hours = expires_in_hours or DEFAULT_SHARE_HOURS
    return TrackShare.objects.create(
        track=track,
        created_by=created_by,
        token=secrets.token_urlsafe(32),
        expires_at=timezone.now() + timedelta(hours=hours),
    )


def revoke_share(*, share: TrackShare) -> TrackShare:
    TrackShare.objects.filter(pk=share.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    share.refresh_from_db(fields=["revoked_at"])
    return share


def mark_stream_ready(
    *, track_id, stream_url: str | None = None, duration_seconds: int | None = None
) -> Track:
    """The stream server finished transcoding: the track becomes playable."""
    with transaction.atomic():
        track = Track.objects.select_for_update().get(pk=track_id)
        if track.status == Track.Status.FAILED:
            raise errors.TrackFailed()
        # A taken-down track stays down: only a moderator's reversal puts it back.
        taken_down = track.status == Track.Status.TAKEN_DOWN
        changes: dict[str, Any] = {} if taken_down else {"status": Track.Status.READY}
        if stream_url is not None:
            changes["stream_url"] = stream_url
        if duration_seconds is not None:
            changes["duration_seconds"] = duration_seconds
        was_ready = track.status == Track.Status.READY
        _apply_changes(track=track, changes=changes, changed_by=None)
        if not was_ready and not taken_down:
            emit("track.ready", track)
    return track


@dataclass(frozen=True)
class PlayReport:
    track_id: uuid.UUID
    played_at: datetime
    seconds: int
    user_id: uuid.UUID | None = None


@dataclass(frozen=True)
class PlayBatchResult:
    batch_id: str
    accepted: int
    skipped: int
    duplicate: bool


def record_play_batch(*, batch_id: str, plays: list[PlayReport]) -> PlayBatchResult:
    """Store a batch of plays and add them to each track's ``play_count``, all or nothing.

    The batch row, the plays and the counters commit together, so a batch is either counted
    whole or not at all; its UNIQUE ``batch_id`` makes a replayed batch a no-op (the second
    insert waits for the first transaction, then fails). Plays of unknown tracks are skipped;
    a play naming an unknown user is kept as anonymous.
    """
    track_ids = {play.track_id for play in plays}
    known_tracks = set(Track.objects.filter(pk__in=track_ids).values_list("pk", flat=True))
    kept = [play for play in plays if play.track_id in known_tracks]
    user_ids = {play.user_id for play in kept if play.user_id is not None}
    known_users = set(User.objects.filter(pk__in=user_ids).values_list("pk", flat=True))
    try:
        with transaction.atomic():
            batch = PlayBatch.objects.create(
                batch_id=batch_id, accepted=len(kept), skipped=len(plays) - len(kept)
            )
            Play.objects.bulk_create(
                Play(
                    batch=batch,
                    track_id=play.track_id,
                    user_id=play.user_id if play.user_id in known_users else None,
                    played_at=play.played_at,
                    seconds=play.seconds,
                )
                for play in kept
            )
            # One UPDATE per distinct track, in primary-key order: two batches touching the
            # same tracks lock their rows in the same order and never deadlock.
            per_track = Counter(play.track_id for play in kept)
            for track_id in sorted(per_track):
                Track.objects.filter(pk=track_id).update(
                    play_count=F("play_count") + per_track[track_id]
                )
            list_cache.catalogue_changed()
    except IntegrityError:
        existing = PlayBatch.objects.filter(batch_id=batch_id).first()
        if existing is None:  # not the batch_id: some other constraint failed
            raise
        logger.info("play batch %s already counted", batch_id)
        return PlayBatchResult(
            batch_id=batch_id, accepted=existing.accepted, skipped=existing.skipped, duplicate=True
        )
    return PlayBatchResult(
        batch_id=batch_id, accepted=batch.accepted, skipped=batch.skipped, duplicate=False
    )


def record_download(*, track: Track, user, ip_address: str, user_agent: str) -> TrackDownload:
    """Count the download and keep it in the access log (who, when, from where)."""
    Track.objects.filter(pk=track.pk).update(download_count=F("download_count") + 1)
    return TrackDownload.objects.create(
        track=track,
        user=user if user is not None and user.is_authenticated else None,
        ip_address=ip_address or None,
        user_agent=user_agent,
    )


def fail_stuck_processing_tracks() -> int:
    """Fail tracks processing for longer than TRACK_PROCESSING_TIMEOUT and delete their files."""
    cutoff = timezone.now() - timedelta(seconds=settings.TRACK_PROCESSING_TIMEOUT)
    stuck_ids = list(
        Track.objects.filter(
            status=Track.Status.PROCESSING, status_changed_at__lt=cutoff
        ).values_list("pk", flat=True)
    )
    failed = 0
    for track_id in stuck_ids:
        with transaction.atomic():
            track = (
                Track.objects.select_for_update()
                .filter(pk=track_id, status=Track.Status.PROCESSING)
                .first()
            )
            if track is None:  # became ready (or was deleted) meanwhile
                continue
            file_name = track.file.name
            _apply_changes(
                track=track, changes={"status": Track.Status.FAILED, "file": ""}, changed_by=None
            )
            if file_name:
                transaction.on_commit(lambda name=file_name: default_storage.delete(name))
        failed += 1
    if failed:
        logger.warning("failed %d track(s) stuck in processing", failed)
    return failed


def purge_expired_shares() -> int:
    """Delete share links that can no longer resolve (expired or revoked)."""
    deleted, _ = TrackShare.objects.filter(expires_at__lte=timezone.now()).delete()
    revoked, _ = TrackShare.objects.filter(revoked_at__isnull=False).delete()
    return deleted + revoked


def recount_like_counts() -> int:
    """Set ``like_count`` from the like rows wherever they differ; returns how many tracks
    changed. The services keep the counter exact; likes removed behind their back (a user
    deleted with its likes, the admin) are what this repairs."""
    actual = Coalesce(
        Subquery(
            TrackLike.objects.filter(track=OuterRef("pk"))
            .order_by()
            .values("track")
            .annotate(n=Count("pk"))
            .values("n"),
            output_field=BigIntegerField(),
        ),
        0,
    )
    with transaction.atomic():
        drifted = Track.objects.annotate(actual=actual).exclude(like_count=F("actual"))
        ids = list(drifted.values_list("pk", flat=True))
        if ids:
            Track.objects.filter(pk__in=ids).update(like_count=actual)
            list_cache.catalogue_changed()
    return len(ids)


def take_down_track(*, track: Track, moderator) -> str:
    """Hide the track (status ``taken_down``) and return the status it had, which
    ``restore_track`` puts back. Call inside the decision's transaction."""
    locked = Track.objects.select_for_update().get(pk=track.pk)
    previous = locked.status
    if previous != Track.Status.TAKEN_DOWN:
        _apply_changes(
            track=locked, changes={"status": Track.Status.TAKEN_DOWN}, changed_by=moderator
        )
    return previous


def restore_track(*, track: Track, status: str, moderator) -> None:
    """Undo a take-down: the track gets back the status it had (if still taken down)."""
    locked = Track.objects.select_for_update().get(pk=track.pk)
    if locked.status == Track.Status.TAKEN_DOWN:
        _apply_changes(track=locked, changes={"status": status}, changed_by=moderator)
