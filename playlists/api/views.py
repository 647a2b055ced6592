from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import SAFE_METHODS, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from playlists import selectors, services
from playlists.api import serializers as s
from playlists.api.filters import PlaylistFilter

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
class PlaylistListCreateView(generics.GenericAPIView):
    permission_classes = [ReadOrAuthenticated]
    serializer_class = s.PlaylistOutput
    filter_backends = [DjangoFilterBackend]
    filterset_class = PlaylistFilter

    def get_queryset(self):
        return selectors.playlist_list(user=self.request.user)

    @extend_schema(responses={200: s.PlaylistOutput(many=True)})
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.PlaylistOutput(page, many=True).data)

    @extend_schema(
        request=s.PlaylistInput, responses={201: s.PlaylistDetailOutput, **_errors(400, 401)}
    )
    def post(self, request):
        data = s.PlaylistInput(data=request.data)
        data.is_valid(raise_exception=True)
        playlist = services.create_playlist(owner=request.user, **data.validated_data)
        return Response(_detail(playlist.pk, request.user), status=status.HTTP_201_CREATED)


@extend_schema(tags=["playlists"])
class PlaylistDetailView(APIView):
    permission_classes = [ReadOrAuthenticated]

    @extend_schema(responses={200: s.PlaylistDetailOutput, **_errors(404)})
    def get(self, request, pk):
        return Response(_detail(pk, request.user))

    def _update(self, request, pk, *, partial: bool) -> Response:
        playlist = selectors.get_visible_playlist(pk=pk, user=request.user, with_tracks=False)
        selectors.check_can_manage(playlist=playlist, user=request.user)
        data = s.PlaylistInput(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        services.update_playlist(playlist=playlist, data=data.validated_data)
        return Response(_detail(pk, request.user))

    @extend_schema(
        request=s.PlaylistInput,
        responses={200: s.PlaylistDetailOutput, **_errors(400, 401, 403, 404)},
    )
    def put(self, request, pk):
        return self._update(request, pk, partial=False)

    @extend_schema(
        request=s.PlaylistInput,
        responses={200: s.PlaylistDetailOutput, **_errors(400, 401, 403, 404)},
    )
    def patch(self, request, pk):
        return self._update(request, pk, partial=True)

    @extend_schema(responses={204: None, **_errors(401, 403, 404)})
    def delete(self, request, pk):
        playlist = selectors.get_visible_playlist(pk=pk, user=request.user, with_tracks=False)
        selectors.check_can_manage(playlist=playlist, user=request.user)
        services.delete_playlist(playlist=playlist)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["playlists"])
class PlaylistTracksView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=s.AddTrackInput,
        responses={201: s.PlaylistDetailOutput, **_errors(400, 401, 403, 404, 409)},
        description="Insert a track at `position` (0-based) or append. A private track of "
        "someone else is answered 404, as if it did not exist.",
    )
    def post(self, request, pk):
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


@extend_schema(tags=["playlists"])
class PlaylistTrackView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None, **_errors(401, 403, 404)})
    def delete(self, request, pk, track_id):
        playlist = selectors.get_visible_playlist(pk=pk, user=request.user, with_tracks=False)
        selectors.check_can_edit_tracks(playlist=playlist, user=request.user)
        services.remove_track(playlist=playlist, track_id=track_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["playlists"])
class PlaylistCollaboratorsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=s.CollaboratorInput,
        responses={
            201: s.CollaboratorOutput,
            200: s.CollaboratorOutput,
            **_errors(400, 401, 403, 404),
        },
        description="Add a collaborator (201) or change its permission (200). Owner only.",
    )
    def post(self, request, pk):
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


@extend_schema(tags=["playlists"])
class PlaylistCollaboratorView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None, **_errors(401, 403, 404)})
    def delete(self, request, pk, user_id):
        playlist = selectors.get_visible_playlist(pk=pk, user=request.user, with_tracks=False)
        selectors.check_can_manage(playlist=playlist, user=request.user)
        services.remove_collaborator(playlist=playlist, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
