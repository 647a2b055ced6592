import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class Playlist(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="playlists"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=5000)
    is_public = models.BooleanField(default=True)
    # Set by a moderator's take-down: hidden from everyone but its owner and admins.
    taken_down_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class PlaylistTrack(models.Model):
    """A track at a position; positions of a playlist stay dense (0..n-1), see services."""

    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="entries")
    track = models.ForeignKey(
        "tracks.Track", on_delete=models.CASCADE, related_name="playlist_entries"
    )
    position = models.PositiveIntegerField()
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["playlist", "position"]
        constraints = [
            models.UniqueConstraint(fields=["playlist", "track"], name="playlist_track_once"),
        ]
        # No UNIQUE on (playlist, position): shifting rows by one in a single UPDATE would
        # trip it mid-statement. Density is kept by serialising edits on the playlist row.
        indexes = [models.Index(fields=["playlist", "position"], name="playlist_position_idx")]

    def __str__(self) -> str:
        return f"{self.playlist_id}#{self.position}"


class PlaylistCollaborator(models.Model):
    class Permission(models.TextChoices):
        VIEW = "view", "View"
        EDIT = "edit", "Edit"

    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="collaborators")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="playlist_collaborations"
    )
    permission = models.CharField(max_length=8, choices=Permission.choices, default=Permission.VIEW)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["added_at"]
        constraints = [
            models.UniqueConstraint(fields=["playlist", "user"], name="playlist_collaborator_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} ({self.permission}) on {self.playlist_id}"
