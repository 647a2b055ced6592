from django.core.files.storage import default_storage
from django.http import FileResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from privacy import erasure, exports
from privacy.api import serializers as s
from privacy.models import DataExport
from veza.api_errors import ErrorResponse
from veza.scopes import NO_API_KEYS

ERRORS = {
    400: OpenApiResponse(description="Invalid input: `{field: [...], detail, code}`"),
    401: OpenApiResponse(description="Missing, invalid, expired or revoked credentials"),
    404: OpenApiResponse(description="Not found"),
}


def export_body(export: DataExport, request) -> dict:
    body = {
        "id": export.pk,
        "status": export.status_at(timezone.now()),
        "progress": export.progress,
        "created_at": export.created_at,
    }
    if body["status"] == DataExport.Status.READY:
        body["size"] = export.size
        body["download_url"] = request.build_absolute_uri(exports.download_path(export))
    if body["status"] in (DataExport.Status.READY, DataExport.Status.EXPIRED):
        body["expires_at"] = export.expires_at
    return body


@extend_schema(tags=["privacy"])
class ExportRequestView(APIView):
    api_key_scopes = NO_API_KEYS
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={
            202: s.ExportCreatedOutput,
            401: ERRORS[401],
            409: ErrorResponse("One is being built", "export_in_progress"),
        },
        description="Build a ZIP of everything the caller's account holds; the link is "
        "emailed when it is ready, and shown by GET /users/me/exports/{id}.",
    )
    def post(self, request):
        export = exports.request_export(user=request.user, request=request)
        return Response({"id": export.pk, "status": export.status}, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["privacy"])
class ExportDetailView(APIView):
    api_key_scopes = NO_API_KEYS
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.ExportOutput, 401: ERRORS[401], 404: ERRORS[404]})
    def get(self, request, pk):
        export = exports.export_of(user=request.user, export_id=pk)
        if export is None:  # someone else's is as unknown as a made-up id
            raise NotFound()
        return Response(s.ExportOutput(export_body(export, request)).data)


@extend_schema(tags=["privacy"])
class ExportDownloadView(APIView):
    """The emailed link: the signature is the credential, so no other is asked for."""

    api_key_scopes = NO_API_KEYS
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[OpenApiParameter("token", str, required=True)],
        responses={
            (200, "application/zip"): OpenApiResponse(
                response=OpenApiTypes.BINARY, description="The ZIP, as an attachment"
            ),
            404: ErrorResponse("Tampered or unknown", "export_link_invalid"),
            410: ErrorResponse("Past expires_at", "export_expired"),
        },
    )
    def get(self, request, pk):
        export = exports.export_for_download(
            export_id=pk, token=request.query_params.get("token", "")
        )
        try:
            handle = default_storage.open(export.file, "rb")
        except FileNotFoundError as exc:
            raise NotFound("The export file is missing.") from exc
        return FileResponse(
            handle,
            as_attachment=True,
            filename=f"veza-export-{export.created_at:%Y-%m-%d}.zip",
            content_type="application/zip",
        )


@extend_schema(tags=["privacy"])
class AccountErasureView(APIView):
    api_key_scopes = NO_API_KEYS
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=s.ErasureInput,
        responses={
            202: s.ErasureScheduledOutput,
            400: ERRORS[400],
            401: ERRORS[401],
            403: ErrorResponse("Wrong password", "invalid_password"),
            409: OpenApiResponse(
                response=s.BalanceNotSettledOutput,
                description="`balance_not_settled`: `remaining` names each balance, payout "
                "in flight and open dispute still tied to the account",
            ),
        },
        description="Schedule the erasure of the caller's account in "
        "ACCOUNT_DELETION_GRACE_DAYS; signing in meanwhile does not cancel it.",
    )
    def delete(self, request):
        data = s.ErasureInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = erasure.schedule_erasure(
            user=request.user, password=data.validated_data["password"], request=request
        )
        return Response(
            {"deletion_scheduled_for": user.deletion_scheduled_for},
            status=status.HTTP_202_ACCEPTED,
        )


@extend_schema(tags=["privacy"])
class CancelErasureView(APIView):
    api_key_scopes = NO_API_KEYS
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: s.ErasureScheduledOutput, 401: ERRORS[401]})
    def post(self, request):
        user = erasure.cancel_erasure(user=request.user, request=request)
        return Response({"deletion_scheduled_for": user.deletion_scheduled_for})
