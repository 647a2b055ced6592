from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, IsAuthenticated
from rest_framework.response import Response

from playlists import selectors, services
from playlists.api import serializers as s
from playlists.api.filters import PlaylistFilter
from veza.api_errors import ErrorResponse
from veza.scopes import PLAYLISTS_READ, PLAYLISTS_WRITE, read_write

ERRORS = {
    400: OpenApiResponse(description="Invalid input: `{field: [...], detail, code}`"),
    401: OpenApiResponse(description="Missing or invalid credentials"),
    403: OpenApiResponse(description="Visible to the caller but not editable by it"),
    404: OpenApiResponse(description="Not found, or private to someone else"),
    409: OpenApiResponse(description="`track_already_in_playlist`"),
}


def _errors(*codes: int) -> dict:
    return {code: ERRORS[code] for code in codes}


class ReadOrAuthenticated(IsAuthenticated):
    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS or super().has_permission(request, view)


def _detail(pk, user) -> dict:
    return s.PlaylistDetailOutput(selectors.get_visible_playlist(pk=pk, user=user)).data


@extend_schema(tags=["playlists"])
class PlaylistViewSet(viewsets.GenericViewSet):
    # No docstring: drf-spectacular would copy it into every operation's description.
    # A private playlist is 404 to anyone but its owner, collaborators and admins; the
    # owner alone edits metadata and collaborators, `edit` collaborators the track list.

    api_key_scopes = read_write(PLAYLISTS_READ, PLAYLISTS_WRITE)
    lookup_value_converter = "uuid"
    permission_classes = [ReadOrAuthenticated]
    serializer_class = s.PlaylistOutput
    filter_backends = [DjangoFilterBackend]
    filterset_class = PlaylistFilter

    def get_queryset(self):
        return selectors.playlist_list(user=self.request.user)

    @extend_schema(responses={200: s.PlaylistOutput(many=True)})
    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.PlaylistOutput(page, many=True).data)

    @extend_schema(
        request=s.PlaylistInput, responses={201: s.PlaylistDetailOutput, **_errors(400, 401)}
    )
    def create(self, request):
        data = s.PlaylistInput(data=request.data)
        data.is_valid(raise_exception=True)
        playlist = services.create_playlist(owner=request.user, **data.validated_data)
        return Response(_detail(playlist.pk, request.user), status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.PlaylistDetailOutput, **_errors(404)})
    def retrieve(self, request, pk):
        return Response(_detail(pk, request.user))

    @extend_schema(
        request=s.PlaylistInput,
        responses={200: s.PlaylistDetailOutput, **_errors(400, 401, 403, 404)},
    )
    def update(self, request, pk):
        return self._update(request, pk, partial=False)

    @extend_schema(
        request=s.PlaylistInput,
        responses={200: s.PlaylistDetailOutput, **_errors(400, 401, 403, 404)},
    )
    def partial_update(self, request, pk):
        return self._update(request, pk, partial=True)

    def _update(self, request, pk, *, partial: bool) -> Response:
        playlist = selectors.get_visible_playlist(pk=pk, user=request.user, with_tracks=False)
        selectors.check_can_manage(playlist=playlist, user=request.user)
        data = s.PlaylistInput(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        services.update_playlist(playlist=playlist, data=data.validated_data)
        return Response(_detail(pk, request.user))

    @extend_schema(responses={204: None, **_errors(401, 403, 404)})
    def destroy(self, request, pk):
        playlist = selectors.get_visible_playlist(pk=pk, user=request.user, with_tracks=False)
        selectors.check_can_manage(playlist=playlist, user=request.user)
        services.delete_playlist(playlist=playlist)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=s.AddTrackInput,
        responses={
            201: s.PlaylistDetailOutput,
            409: ErrorResponse("Already in the playlist", "track_already_in_playlist"),
            **_errors(400, 401, 403, 404),
        },
        description="Insert a track at `position` (0-based) or append. A private track of "
        "someone else is answered 404, as if it did not exist.",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="tracks",
        url_name="tracks",
        permission_classes=[IsAuthenticated],
    )
    def add_track(self, request, pk):
        playlist = selectors.get_visible_playlist(pk=pk, user=request.user, with_tracks=False)
        selectors.check_can_edit_tracks(playlist=playlist, user=request.user)
        data = s.AddTrackInput(data=request.data)
        data.is_valid(raise_exception=True)
        track = selectors.get_addable_track(
            track_id=data.validated_data["track_id"], user=request.user
        )
        services.add_track(
            playlist=playlist,
            track=track,
            added_by=request.user,
            position=data.validated_data.get("position"),
        )
        return Response(_detail(pk, request.user), status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None, **_errors(401, 403, 404)})
    @action(
        detail=True,
        methods=["delete"],
        url_path="tracks/<uuid:track_id>",
        url_name="track",
        permission_classes=[IsAuthenticated],
    )
    def remove_track(self, request, pk, track_id):
        playlist = selectors.get_visible_playlist(pk=pk, user=request.user, with_tracks=False)
        selectors.check_can_edit_tracks(playlist=playlist, user=request.user)
        services.remove_track(playlist=playlist, track_id=track_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=s.CollaboratorInput,
        responses={
            201: s.CollaboratorOutput,
            200: s.CollaboratorOutput,
            400: ErrorResponse("The owner is not a collaborator", "owner_cannot_collaborate"),
            **_errors(401, 403, 404),
        },
        description="Add a collaborator (201) or change its permission (200). Owner only.",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="collaborators",
        url_name="collaborators",
        permission_classes=[IsAuthenticated],
    )
    def set_collaborator(self, request, pk):
        playlist = selectors.get_visible_playlist(pk=pk, user=request.user, with_tracks=False)
        selectors.check_can_manage(playlist=playlist, user=request.user)
        data = s.CollaboratorInput(data=request.data)
        data.is_valid(raise_exception=True)
        collaborator, created = services.set_collaborator(
            playlist=playlist,
            user=data.validated_data["user_id"],
            permission=data.validated_data["permission"],
        )
        return Response(
            s.CollaboratorOutput(collaborator).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(responses={204: None, **_errors(401, 403, 404)})
    @action(
        detail=True,
        methods=["delete"],
        url_path="collaborators/<uuid:user_id>",
        url_name="collaborator",
        permission_classes=[IsAuthenticated],
    )
    def remove_collaborator(self, request, pk, user_id):
        playlist = selectors.get_visible_playlist(pk=pk, user=request.user, with_tracks=False)
        selectors.check_can_manage(playlist=playlist, user=request.user)
        services.remove_collaborator(playlist=playlist, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
