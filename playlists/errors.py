from rest_framework import status

from veza.exceptions import DomainError


class TrackAlreadyInPlaylist(DomainError):
    code = "track_already_in_playlist"
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This track is already in the playlist."


class OwnerCannotCollaborate(DomainError):
    code = "owner_cannot_collaborate"
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The playlist's owner cannot also be one of its collaborators."
