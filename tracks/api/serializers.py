from django.conf import settings
from rest_framework import serializers

from accounts.api.serializers import UserRefOutput
from accounts.models import User
from tracks.models import Play, Track, TrackChange, TrackShare
from veza.serializers import CachedFieldsMixin, JSONInput

MAX_PLAYS_PER_BATCH = 1000


class TrackOutput(CachedFieldsMixin, serializers.ModelSerializer):
    """Expects the queryset annotation ``liked_by_me`` (selectors)."""

    creator = UserRefOutput(read_only=True)
    liked_by_me = serializers.BooleanField(read_only=True, default=False)
    stream_url = serializers.SerializerMethodField(
        help_text="Where the stream server serves the track; null until it is ready."
    )

    class Meta:
        model = Track
        fields = [
            "id",
            "title",
            "artist",
            "album",
            "genre",
            "description",
            "duration_seconds",
            "format",
            "file_size",
            "status",
            "is_public",
            "is_downloadable",
            "creator",
            "stream_url",
            "like_count",
            "play_count",
            "liked_by_me",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_stream_url(self, track: Track) -> str | None:
        if track.status != Track.Status.READY or not track.stream_url:
            return None
        return track.stream_url


class TrackUploadInput(JSONInput):
    # An empty file is refused by the service, as `invalid_file` like every other refusal.
    file = serializers.FileField(
        allow_empty_file=True,
        help_text="mp3, wav, flac, ogg, m4a or aac; checked by content, at most MAX_UPLOAD_SIZE.",
    )
    title = serializers.CharField(max_length=200)
    artist = serializers.CharField(max_length=200, required=False, allow_blank=True)
    album = serializers.CharField(max_length=200, required=False, allow_blank=True)
    genre = serializers.CharField(max_length=50, required=False, allow_blank=True)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    is_public = serializers.BooleanField(required=False, default=True)
    is_downloadable = serializers.BooleanField(required=False, default=False)


class TrackUpdateInput(JSONInput):
    title = serializers.CharField(max_length=200)
    artist = serializers.CharField(max_length=200, required=False, allow_blank=True)
    album = serializers.CharField(max_length=200, required=False, allow_blank=True)
    genre = serializers.CharField(max_length=50, required=False, allow_blank=True)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    is_public = serializers.BooleanField(required=False)
    is_downloadable = serializers.BooleanField(required=False)


class LikeOutput(serializers.Serializer):
    liked = serializers.BooleanField()
    like_count = serializers.IntegerField()


class LikerOutput(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "display_name"]
        read_only_fields = fields


class ShareInput(JSONInput):
    expires_in_hours = serializers.IntegerField(
        required=False, min_value=1, max_value=720, help_text="1..720, default 72."
    )


class ShareOutput(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = TrackShare
        fields = ["id", "token", "url", "expires_at"]
        read_only_fields = fields

    def get_url(self, share: TrackShare) -> str:
        return f"{settings.FRONTEND_URL.rstrip('/')}/shared/{share.token}"


class StatsOutput(serializers.Serializer):
    plays = serializers.IntegerField()
    likes = serializers.IntegerField()
    shares = serializers.IntegerField()
    downloads = serializers.IntegerField()


class TrackChangeOutput(serializers.ModelSerializer):
    changed_by = UserRefOutput(read_only=True, allow_null=True)
    changes = serializers.DictField(
        child=serializers.DictField(), help_text='{field: {"from": old, "to": new}}'
    )

    class Meta:
        model = TrackChange
        fields = ["id", "changed_by", "changes", "created_at"]
        read_only_fields = fields


class StreamReadyInput(JSONInput):
    stream_url = serializers.CharField(max_length=500, required=False, allow_blank=True)
    duration_seconds = serializers.IntegerField(required=False, min_value=0, allow_null=True)


class PlayInput(JSONInput):
    track_id = serializers.UUIDField()
    user_id = serializers.UUIDField(required=False, allow_null=True)
    played_at = serializers.DateTimeField()
    seconds = serializers.IntegerField(min_value=0, max_value=7 * 24 * 3600)


class PlayBatchInput(JSONInput):
    batch_id = serializers.CharField(
        max_length=128, help_text="The stream server's id of this batch; a repeat counts once."
    )
    plays = serializers.ListField(
        child=PlayInput(), max_length=MAX_PLAYS_PER_BATCH, help_text="At most 1,000 plays."
    )


class PlayBatchOutput(serializers.Serializer):
    batch_id = serializers.CharField()
    accepted = serializers.IntegerField(help_text="Plays stored and counted.")
    skipped = serializers.IntegerField(help_text="Plays of unknown tracks, ignored.")
    duplicate = serializers.BooleanField(
        help_text="True when this batch_id had already been counted: nothing changed."
    )


class TrackRefOutput(serializers.ModelSerializer):
    creator = UserRefOutput(read_only=True)

    class Meta:
        model = Track
        fields = ["id", "title", "artist", "creator"]
        read_only_fields = fields


class PlayOutput(serializers.ModelSerializer):
    track = TrackRefOutput(read_only=True)

    class Meta:
        model = Play
        fields = ["id", "track", "played_at", "seconds"]
        read_only_fields = fields
