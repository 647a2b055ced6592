import hmac

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse
from django.utils.text import slugify
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import AuthenticationFailed, NotFound
from rest_framework.filters import OrderingFilter
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from tracks import errors, list_cache, selectors, services
from tracks.api import lean
from tracks.api import serializers as s
from tracks.api.filters import TrackFilter
from tracks.audio_formats import CONTENT_TYPES
from tracks.models import Track
from tracks.upload_slots import upload_slot
from veza.api_errors import ErrorResponse
from veza.client_ip import client_ip, user_agent
from veza.permissions import IsCreatorRole
from veza.scopes import NO_API_KEYS, TRACKS_READ, TRACKS_WRITE, read_only, read_write

ERRORS = {
    400: OpenApiResponse(description="Invalid input: `{detail, code}` (`invalid_file`, ...)"),
    401: OpenApiResponse(description="Missing or invalid credentials"),
    403: OpenApiResponse(description="Authenticated but not allowed"),
    404: OpenApiResponse(description="Not found, or private to someone else"),
    409: OpenApiResponse(description="Conflicts with the track's state"),
    415: OpenApiResponse(description="Not multipart/form-data"),
    503: OpenApiResponse(description="Scanner down (CLAMAV_REQUIRED) or too many uploads"),
}


def _errors(*codes: int) -> dict:
    return {code: ERRORS[code] for code in codes}


class IsCreatorForUpload(BasePermission):
    """Reading the list is public; uploading needs a creator role."""

    def has_permission(self, request, view) -> bool:
        if request.method == "POST":
            return IsAuthenticated().has_permission(
                request, view
            ) and IsCreatorRole().has_permission(request, view)
        return True


@extend_schema(tags=["tracks"])
class TrackViewSet(viewsets.GenericViewSet):
    # A track and what hangs off it. No docstring: drf-spectacular would copy it into every
    # operation's description. Visibility and ownership are the selectors' business (404
    # for a private track of someone else, 403 for a write by someone who can only see it).

    api_key_scopes = read_write(TRACKS_READ, TRACKS_WRITE)
    lookup_value_converter = "uuid"
    serializer_class = s.TrackOutput
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = TrackFilter
    ordering_fields = ["created_at", "title", "play_count", "like_count"]
    ordering = ["-created_at"]

    def get_queryset(self):
        return selectors.track_list(user=self.request.user)

    def get_permissions(self):
        # The list shares the upload's permission (open on GET), as before the viewset.
        if self.action in ("list", "create"):
            return [IsCreatorForUpload()]
        return super().get_permissions()

    def get_parsers(self):
        # DRF asks for the parsers before it sets ``self.action``, hence the route's own map.
        action_map = getattr(self, "action_map", None) or {}
        if self.request is not None and action_map.get(self.request.method.lower()) == "create":
            return [MultiPartParser(), FormParser()]
        return super().get_parsers()

    @extend_schema(responses={200: s.TrackOutput(many=True)})
    def list(self, request):
        # Visitors share one page per query, built once per catalogue change; a signed-in
        # caller who owns nothing hidden sees the same rows, with their own likes laid over.
        return list_cache.serve(
            request,
            build=lambda owns_hidden=True: self._build_page(request, owns_hidden=owns_hidden),
        )

    def _build_page(self, request, *, owns_hidden: bool = True) -> dict:
        # Plain rows, filtered and rendered by the rules of TrackFilter, OrderingFilter and
        # TrackOutput without their per-request machinery (tracks.api.lean).
        queryset = lean.rows(user=request.user, owns_hidden=owns_hidden)
        filtered = lean.filter_and_order(
            queryset,
            request.query_params,
            ordering_fields=self.ordering_fields,
            default_ordering=self.ordering,
        )
        if filtered is None:  # input the FilterSet refuses, in its own words
            filtered = self.filter_queryset(queryset)
        page = self.paginate_queryset(filtered)
        return lean.page_body(self.paginator, lean.track_dicts(page))

    @extend_schema(
        request={"multipart/form-data": s.TrackUploadInput},
        responses={
            201: s.TrackOutput,
            400: ErrorResponse(
                "The file is refused", "invalid_file", "infected_file", "blocked_content"
            ),
            403: ErrorResponse("Not a creator, or suspended", "account_suspended"),
            503: ErrorResponse(
                "Scanner down or too many uploads", "scanner_unavailable", "too_many_uploads"
            ),
            **_errors(401, 415),
        },
        description="Upload an audio file. Creator roles only. The track starts `processing`. "
        "400 `blocked_content` when the audio matches a recording taken down for copyright "
        "(the same file, or the same recording re-encoded, louder or quieter, or padded); "
        "403 `account_suspended` for a repeat infringer.",
    )
    def create(self, request):
        services.check_can_publish(request.user)
        services.check_declared_upload_size(request.META.get("CONTENT_LENGTH"))
        # Take the slot before the body is parsed: receiving and scanning are the costly part.
        with upload_slot():
            data = s.TrackUploadInput(data=request.data)
            data.is_valid(raise_exception=True)
            fields = dict(data.validated_data)
            track = services.upload_track(creator=request.user, upload=fields.pop("file"), **fields)
        track = selectors.get_visible_track(pk=track.pk, user=request.user)
        return Response(s.TrackOutput(track).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.TrackOutput, **_errors(404)})
    def retrieve(self, request, pk):
        return Response(s.TrackOutput(selectors.get_visible_track(pk=pk, user=request.user)).data)

    @extend_schema(
        request=s.TrackUpdateInput, responses={200: s.TrackOutput, **_errors(400, 403, 404)}
    )
    def update(self, request, pk):
        return self._update(request, pk, partial=False)

    @extend_schema(
        request=s.TrackUpdateInput, responses={200: s.TrackOutput, **_errors(400, 403, 404)}
    )
    def partial_update(self, request, pk):
        return self._update(request, pk, partial=True)

    def _update(self, request, pk, *, partial: bool) -> Response:
        track = selectors.get_manageable_track(pk=pk, user=request.user)
        data = s.TrackUpdateInput(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        services.update_track(track=track, changed_by=request.user, data=data.validated_data)
        return Response(s.TrackOutput(selectors.get_visible_track(pk=pk, user=request.user)).data)

    @extend_schema(responses={204: None, **_errors(403, 404)})
    def destroy(self, request, pk):
        track = selectors.get_manageable_track(pk=pk, user=request.user)
        services.delete_track(track=track, deleted_by=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None, responses={201: s.LikeOutput, 200: s.LikeOutput, **_errors(401, 404)}
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def like(self, request, pk):
        track = selectors.get_visible_track(pk=pk, user=request.user)
        created = services.like_track(track=track, user=request.user)
        # Read back: the count now includes this like (or not, when it was already there).
        track = selectors.get_visible_track(pk=pk, user=request.user)
        return Response(
            {"liked": True, "like_count": track.like_count},
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(request=None, responses={204: None, **_errors(401, 404)})
    @like.mapping.delete
    def unlike(self, request, pk):
        track = selectors.get_visible_track(pk=pk, user=request.user)
        services.unlike_track(track=track, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={200: s.LikerOutput(many=True), **_errors(401, 404)})
    @action(detail=True, permission_classes=[IsAuthenticated], filter_backends=[])
    def likes(self, request, pk):
        track = selectors.get_visible_track(pk=pk, user=request.user)
        page = self.paginate_queryset(selectors.track_likers(track=track))
        return self.get_paginated_response(s.LikerOutput(page, many=True).data)

    @extend_schema(request=s.ShareInput, responses={201: s.ShareOutput, **_errors(400, 403, 404)})
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[IsAuthenticated],
        url_name="share-create",
    )
    def share(self, request, pk):
        track = selectors.get_owned_track(pk=pk, user=request.user)
        data = s.ShareInput(data=request.data)
        data.is_valid(raise_exception=True)
        share = services.create_share(
            track=track,
            created_by=request.user,
            expires_in_hours=data.validated_data.get("expires_in_hours"),
        )
        return Response(s.ShareOutput(share).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.StatsOutput, **_errors(404)})
    @action(detail=True)
    def stats(self, request, pk):
        track = selectors.get_visible_track(pk=pk, user=request.user)
        return Response(s.StatsOutput(selectors.track_stats(track=track)).data)

    @extend_schema(
        responses={200: s.PlayOutput(many=True), **_errors(401)},
        description="The caller's listening history (plays reported by the stream server), "
        "newest first.",
    )
    @action(
        detail=False,
        url_path="listening-history",
        permission_classes=[IsAuthenticated],
        filter_backends=[],
    )
    def listening_history(self, request):
        page = self.paginate_queryset(selectors.listening_history(user=request.user))
        return self.get_paginated_response(s.PlayOutput(page, many=True).data)

    @extend_schema(responses={200: s.TrackChangeOutput(many=True), **_errors(401, 403, 404)})
    @action(detail=True, permission_classes=[IsAuthenticated], filter_backends=[])
    def history(self, request, pk):
        track = selectors.get_manageable_track(pk=pk, user=request.user)
        page = self.paginate_queryset(selectors.track_history(track=track))
        return self.get_paginated_response(s.TrackChangeOutput(page, many=True).data)

    @extend_schema(
        responses={
            (200, "audio/*"): OpenApiResponse(
                response=OpenApiTypes.BINARY, description="The audio file, as an attachment"
            ),
            404: ErrorResponse("Unknown, not yours to see, or its file is gone", "file_missing"),
            **_errors(403),
        }
    )
    @action(detail=True)
    def download(self, request, pk):
        track = selectors.get_downloadable_track(pk=pk, user=request.user)
        if not track.file:
            raise errors.FileMissing()
        try:
            handle = default_storage.open(track.file.name, "rb")
        except FileNotFoundError as exc:
            raise errors.FileMissing() from exc
        services.record_download(
            track=track,
            user=request.user,
            ip_address=client_ip(request),
            user_agent=user_agent(request),
        )
        filename = f"{slugify(track.title) or 'track'}.{track.format}"
        return FileResponse(
            handle,
            as_attachment=True,
            filename=filename,
            content_type=CONTENT_TYPES.get(track.format, "application/octet-stream"),
        )


@extend_schema(tags=["tracks"])
class SharedTrackViewSet(viewsets.ViewSet):
    # A track opened through a share link's token; 404 once revoked or expired.

    api_key_scopes = read_only(TRACKS_READ)
    lookup_field = "token"

    @extend_schema(responses={200: s.TrackOutput, **_errors(404)})
    def retrieve(self, request, token):
        return Response(
            s.TrackOutput(selectors.get_shared_track(token=token, user=request.user)).data
        )


@extend_schema(tags=["tracks"])
class TrackShareViewSet(viewsets.ViewSet):
    # Share links by id, for their track's owner to revoke.

    api_key_scopes = read_write(TRACKS_READ, TRACKS_WRITE)
    lookup_url_kwarg = "share_id"
    lookup_value_converter = "uuid"
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None, **_errors(401, 403, 404)})
    def destroy(self, request, share_id):
        share = selectors.get_share_for_revocation(share_id=share_id, user=request.user)
        services.revoke_share(share=share)
        return Response(status=status.HTTP_204_NO_CONTENT)


class HasInternalApiKey(BasePermission):
    """The stream server's shared key, compared in constant time; never open when unset."""

    def has_permission(self, request, view) -> bool:
        expected = settings.STREAM_SERVER_INTERNAL_API_KEY
        given = request.headers.get("X-Internal-API-Key", "")
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            raise AuthenticationFailed("Missing or wrong internal API key.", code="invalid_api_key")
        return True


@extend_schema(tags=["internal"])
class StreamReadyView(APIView):
    api_key_scopes = NO_API_KEYS
    authentication_classes: list = []
    permission_classes = [HasInternalApiKey]

    @extend_schema(
        request=s.StreamReadyInput,
        responses={200: s.TrackOutput, **_errors(400, 401, 404, 409)},
        description="Called by the stream server once the track is transcoded "
        "(header `X-Internal-API-Key`).",
    )
    def post(self, request, pk):
        data = s.StreamReadyInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.mark_stream_ready(track_id=pk, **data.validated_data)
        except Track.DoesNotExist as exc:
            raise NotFound("Track not found.") from exc
        track = selectors.with_track_annotations(Track.objects.filter(pk=pk), user=None).get()
        return Response(s.TrackOutput(track).data)


@extend_schema(tags=["internal"])
class PlayBatchView(APIView):
    api_key_scopes = NO_API_KEYS
    authentication_classes: list = []
    permission_classes = [HasInternalApiKey]

    @extend_schema(
        request=s.PlayBatchInput,
        responses={202: s.PlayBatchOutput, **_errors(400, 401)},
        description="The stream server reports plays in batches of at most 1,000 (header "
        "`X-Internal-API-Key`). A repeated `batch_id` is counted once; plays of unknown "
        "tracks are skipped and counted in `skipped`.",
    )
    def post(self, request):
        data = s.PlayBatchInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.record_play_batch(
            batch_id=data.validated_data["batch_id"],
            plays=[services.PlayReport(**play) for play in data.validated_data["plays"]],
        )
        return Response(s.PlayBatchOutput(result).data, status=status.HTTP_202_ACCEPTED)
