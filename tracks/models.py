import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils import timezone


class Track(models.Model):
    class Status(models.TextChoices):
        UPLOADING = "uploading", "Uploading"
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        # Hidden by a moderator's decision; a reversed appeal puts back the status it had.
        TAKEN_DOWN = "taken_down", "Taken down"

    class ScanStatus(models.TextChoices):
        CLEAN = "clean", "Clean"
        # ClamAV was not configured, or was down while CLAMAV_REQUIRED=false.
        UNSCANNED = "unscanned", "Unscanned"

    class Format(models.TextChoices):
        MP3 = "mp3", "MP3"
        WAV = "wav", "WAV"
        FLAC = "flac", "FLAC"
        OGG = "ogg", "Ogg"
        M4A = "m4a", "M4A"
        AAC = "aac", "AAC"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tracks"
    )
    title = models.CharField(max_length=200)
    artist = models.CharField(max_length=200, blank=True)
    album = models.CharField(max_length=200, blank=True)
    genre = models.CharField(max_length=50, blank=True, db_index=True)
    description = models.TextField(blank=True, max_length=5000)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    format = models.CharField(max_length=8, choices=Format.choices)
    file_size = models.BigIntegerField(default=0)
    file = models.FileField(max_length=500, blank=True)
    stream_url = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROCESSING)
    # When the status last changed: the stuck-processing sweep measures from here, not from
    # updated_at, which a metadata edit would bump.
    status_changed_at = models.DateTimeField(default=timezone.now)
    scan_status = models.CharField(
        max_length=16, choices=ScanStatus.choices, default=ScanStatus.UNSCANNED
    )
    is_public = models.BooleanField(default=True)
    is_downloadable = models.BooleanField(default=False)
    play_count = models.PositiveBigIntegerField(default=0)
    # Kept by the like/unlike services with F() in the transaction of the like row itself, so
    # sorting by popularity reads a column instead of counting likes for every track.
    like_count = models.PositiveBigIntegerField(default=0)
    download_count = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["status", "is_public", "-created_at"], name="track_public_list_idx"
            ),
            models.Index(fields=["status", "status_changed_at"], name="track_status_age_idx"),
            # The public list's orderings and filters; partial, since only public ready tracks
            # are listed to everyone (the caller's own tracks go through the creator index).
            models.Index(
                F("like_count").desc(),
                F("created_at").desc(),
                name="track_public_likes_idx",
                condition=Q(status="ready", is_public=True),
            ),
            models.Index(
                F("play_count").desc(),
                F("created_at").desc(),
                name="track_public_plays_idx",
                condition=Q(status="ready", is_public=True),
            ),
            models.Index(
                Upper("genre"),
                F("created_at").desc(),
                name="track_public_genre_idx",
                condition=Q(status="ready", is_public=True),
            ),
            models.Index(fields=["creator", "-created_at"], name="track_creator_list_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class TrackLike(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="track_likes"
    )
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="likes")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "track"], name="track_like_once_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} likes {self.track_id}"


class TrackShare(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="shares")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="track_shares"
    )
    token = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"share of {self.track_id}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class TrackChange(models.Model):
    """One update of a track: ``changes`` maps each field to ``{"from": old, "to": new}``."""

    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="changes")
    # Null when the change came from a service (the stream server, the stuck-track sweep).
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="track_changes",
    )
    changes = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["track", "-created_at"], name="track_change_history_idx")]

    def __str__(self) -> str:
        return f"change of {self.track_id} at {self.created_at:%Y-%m-%d %H:%M}"


class PlayBatch(models.Model):
    """One report of the stream server. ``batch_id`` is UNIQUE: a batch sent again (a retry
    after a timeout) is recognised by the database and counted once."""

    batch_id = models.CharField(max_length=128, unique=True)
    accepted = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"play batch {self.batch_id}"


class Play(models.Model):
    """One listen, as the stream server reported it: the listening history."""

    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="plays")
    # Null for an anonymous listener (or an account deleted since).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="plays",
    )
    batch = models.ForeignKey(PlayBatch, on_delete=models.CASCADE, related_name="plays")
    played_at = models.DateTimeField()
    seconds = models.PositiveIntegerField()

    class Meta:
        ordering = ["-played_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-played_at"], name="play_user_history_idx"),
            models.Index(fields=["track", "-played_at"], name="play_track_history_idx"),
        ]

    def __str__(self) -> str:
        return f"play of {self.track_id} at {self.played_at:%Y-%m-%d %H:%M}"


class TrackDownload(models.Model):
    """One fetch of a track's file through ``GET /tracks/{id}/download``: who, when, from
    where. A chargeback for a digital good is won with this access log."""

    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="downloads")
    # Null for an anonymous download of a public track (or an account deleted since).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="track_downloads",
    )
    downloaded_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)

    class Meta:
        ordering = ["-downloaded_at", "-id"]
        indexes = [
            models.Index(
                fields=["user", "track", "-downloaded_at"], name="track_download_access_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"download of {self.track_id} at {self.downloaded_at:%Y-%m-%d %H:%M}"
