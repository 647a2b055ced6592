import factory
from factory.django import DjangoModelFactory

from playlists.models import Playlist, PlaylistCollaborator, PlaylistTrack
from tests.factories import UserFactory
from tests.tracks.factories import TrackFactory


class PlaylistFactory(DjangoModelFactory):
    class Meta:
        model = Playlist

    owner = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Playlist {n}")
    description = "Late night selection"
    is_public = True


class PlaylistTrackFactory(DjangoModelFactory):
    """Appends: give ``position`` explicitly when building several for one playlist."""

    class Meta:
        model = PlaylistTrack

    playlist = factory.SubFactory(PlaylistFactory)
    track = factory.SubFactory(TrackFactory)
    position = factory.LazyAttribute(lambda o: o.playlist.entries.count())
    added_by = factory.SelfAttribute("playlist.owner")


class PlaylistCollaboratorFactory(DjangoModelFactory):
    class Meta:
        model = PlaylistCollaborator

    playlist = factory.SubFactory(PlaylistFactory)
    user = factory.SubFactory(UserFactory)
    permission = PlaylistCollaborator.Permission.VIEW
