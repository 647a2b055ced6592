from rest_framework import serializers

from accounts.api.serializers import UserRefOutput
from accounts.models import User
from playlists.models import Playlist, PlaylistCollaborator, PlaylistTrack
from tracks.api.serializers import TrackOutput
from veza.serializers import JSONInput


class CollaboratorOutput(serializers.ModelSerializer):
    user = UserRefOutput(read_only=True)

    class Meta:
        model = PlaylistCollaborator
        fields = ["user", "permission"]
        read_only_fields = fields


class PlaylistEntryOutput(serializers.ModelSerializer):
    track = TrackOutput(read_only=True)
    added_by = UserRefOutput(read_only=True, allow_null=True)

    class Meta:
        model = PlaylistTrack
        fields = ["position", "track", "added_by", "added_at"]
        read_only_fields = fields


class PlaylistOutput(serializers.ModelSerializer):
    """List shape: no ``tracks``. Expects the ``track_count`` annotation (selectors)."""

    owner = UserRefOutput(read_only=True)
    track_count = serializers.IntegerField(read_only=True, default=0)
    collaborators = CollaboratorOutput(many=True, read_only=True)

    class Meta:
        model = Playlist
        fields = [
            "id",
            "title",
            "description",
            "is_public",
            "owner",
            "track_count",
            "collaborators",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PlaylistDetailOutput(PlaylistOutput):
    tracks = PlaylistEntryOutput(source="entries", many=True, read_only=True)

    class Meta(PlaylistOutput.Meta):
        fields = [*PlaylistOutput.Meta.fields, "tracks"]
        read_only_fields = fields


class PlaylistInput(JSONInput):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    is_public = serializers.BooleanField(required=False)


class AddTrackInput(JSONInput):
    track_id = serializers.UUIDField()
    position = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        help_text="0-based; omitted or beyond the end appends.",
    )


class CollaboratorInput(JSONInput):
    user_id = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
    permission = serializers.ChoiceField(choices=PlaylistCollaborator.Permission.choices)
