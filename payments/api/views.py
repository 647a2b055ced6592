import json
from datetime import UTC, date, datetime, time, timedelta

from django.http import HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.services import client_ip
from payments import statements
from payments.api import serializers as s
from payments.intake.receiver import receive
from payments.intake.webhooks import SIGNATURE_HEADER
from payments.models import Payout, SellerTransfer
from payments.payouts.methods import method_of, set_payout_method
from payments.payouts.selectors import balance_summary, payouts_visible_to, transfers_of
from payments.statements import statement_seller
from veza.api_errors import ErrorResponse
from veza.permissions import IsCreatorRole
from veza.scopes import NO_API_KEYS, SELLER_READ, read_only


@extend_schema(tags=["webhooks"])
class HyperswitchWebhookView(APIView):
    """The payment provider's signed notifications (HMAC-SHA512 of the raw body)."""

    api_key_scopes = NO_API_KEYS

    authentication_classes = []
    permission_classes = []
    throttle_classes = []

    def dispatch(self, request, *args, **kwargs):
        """A delivery is received before DRF's request wrapping, content negotiation and
        renderer, which its answer does not need: a 200 is one of a few fixed JSON bodies
        (a replay, the commonest delivery, is one UPDATE and this). A refusal or an error is
        handed to DRF's dispatch, which ``post`` raises it in, so that the exception handler
        answers it exactly as before."""
        if request.method != "POST":
            return super().dispatch(request, *args, **kwargs)
        try:
            # request.body is the raw payload, read before any parsing: the signature covers it.
            receipt = receive(
                raw_body=request.body,
                signature=request.headers.get(SIGNATURE_HEADER),
                remote_addr=client_ip(request),
            )
        except Exception as exc:  # noqa: BLE001 - re-raised inside DRF's dispatch
            self.refusal = exc
            return super().dispatch(request, *args, **kwargs)
        response = HttpResponse(
            json.dumps(receipt.body, separators=(",", ":")),
            status=receipt.status_code,
            content_type="application/json",
        )
        response["Allow"] = ", ".join(self.allowed_methods)  # as DRF's answer has it
        return response

    @extend_schema(
        request={"application/json": {"type": "object"}},
        parameters=[
            OpenApiParameter(
                SIGNATURE_HEADER,
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="Lowercase hex HMAC-SHA512 of the raw body",
            )
        ],
        responses={
            200: s.WebhookReceiptOutput,
            400: ErrorResponse(
                "Not a JSON object, or a refund event without id", "malformed_payload"
            ),
            401: ErrorResponse("Missing or invalid signature; nothing stored", "invalid_signature"),
        },
    )
    def post(self, request):
        # Only a refusal or an error reaches here (dispatch answers the 200s itself).
        raise self.refusal


@extend_schema(tags=["seller"])
class SellerBalanceView(APIView):
    api_key_scopes = read_only(SELLER_READ)
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("currency", str, description="default: EUR")],
        responses={200: s.BalanceOutput},
    )
    def get(self, request):
        currency = (request.query_params.get("currency") or "EUR").upper()[:3]
        return Response(balance_summary(seller=request.user, currency=currency))


@extend_schema(tags=["seller"])
class SellerTransferListView(generics.ListAPIView):
    api_key_scopes = read_only(SELLER_READ)
    permission_classes = [IsAuthenticated]
    serializer_class = s.TransferOutput
    filterset_fields = ["status", "currency"]
    ordering = ["-created_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SellerTransfer.objects.none()
        return transfers_of(seller=self.request.user)


@extend_schema(tags=["seller"])
class SellerPayoutMethodView(APIView):
    """Where the caller's payouts go; the provider's customer id is the seller's id."""

    api_key_scopes = NO_API_KEYS

    permission_classes = [IsCreatorRole]

    @extend_schema(
        responses={
            200: s.PayoutMethodOutput,
            404: OpenApiResponse(description="No payout method set yet"),
        }
    )
    def get(self, request):
        method = method_of(seller=request.user)
        if method is None:
            raise NotFound("No payout method is set.")
        return Response(s.PayoutMethodOutput(method).data)

    @extend_schema(request=s.PayoutMethodInput, responses={200: s.PayoutMethodOutput})
    def put(self, request):
        data = s.PayoutMethodInput(data=request.data)
        data.is_valid(raise_exception=True)
        method = set_payout_method(seller=request.user, request=request, **data.validated_data)
        return Response(s.PayoutMethodOutput(method).data)


@extend_schema(tags=["seller"])
class SellerPayoutListView(generics.ListAPIView):
    api_key_scopes = read_only(SELLER_READ)
    permission_classes = [IsAuthenticated]
    serializer_class = s.PayoutOutput
    filterset_fields = ["status", "currency"]
    ordering = ["-created_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Payout.objects.none()
        return payouts_visible_to(user=self.request.user)


@extend_schema(tags=["seller"])
class SellerPayoutDetailView(generics.RetrieveAPIView):
    """The seller's own payout (an admin: any); 404 for everyone else."""

    api_key_scopes = read_only(SELLER_READ)

    permission_classes = [IsAuthenticated]
    serializer_class = s.PayoutOutput
    lookup_field = "pk"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Payout.objects.none()
        return payouts_visible_to(user=self.request.user)


class StatementCSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data.encode() if isinstance(data, str) else b""


# What _moment() parses: an ISO date (a whole day) or an ISO datetime.
ISO_DAY_OR_MOMENT = {
    "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]
}


@extend_schema(tags=["seller"])
class SellerStatementView(APIView):
    """Every ledger movement of a period, between the opening and closing balance."""

    api_key_scopes = read_only(SELLER_READ)

    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer, StatementCSVRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter("from", ISO_DAY_OR_MOMENT, description="inclusive; before `to`"),
            OpenApiParameter("to", ISO_DAY_OR_MOMENT, description="a date is inclusive"),
            OpenApiParameter("currency", str, description="default: EUR"),
            OpenApiParameter("seller", OpenApiTypes.UUID, description="admins: another seller"),
            OpenApiParameter("format", str, enum=["json", "csv"], description="csv: a file"),
        ],
        responses={
            (200, "application/json"): s.StatementOutput,
            (200, "text/csv"): OpenApiTypes.STR,
            400: OpenApiResponse(description="A date is not an ISO date or datetime"),
        },
    )
    def get(self, request, *args, **kwargs):
        params = request.query_params
        start, end = _period(params.get("from"), params.get("to"))
        currency = (params.get("currency") or "EUR").upper()[:3]
        seller = statement_seller(user=request.user, seller_id=params.get("seller"))
        if seller is None:
            raise NotFound("No such seller.")
        statement = statements.seller_statement(
            seller=seller, currency=currency, start=start, end=end
        )
        if request.accepted_renderer.format == "csv":
            filename = f"statement-{currency}-{(start or end or timezone.now()):%Y%m%d}.csv"
            return Response(
                statements.statement_csv(statement),
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )
        return Response(s.StatementOutput(statement.as_dict()).data)

    def handle_exception(self, exc):
        # Errors are JSON, even for ?format=csv.
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)


def _moment(value: str | None, *, end: bool):
    """A bound of the period: a datetime as given, or a date's midnight (UTC); an end date
    is inclusive (its next midnight). An empty ``?to=`` is no date (400), as the schema says."""
    if value is None:
        return None
    try:
        moment = parse_datetime(value)
        if moment is None:
            day = parse_date(value)
            if day is None:
                raise ValueError(value)
            if end and day == date.max:
                return datetime.max.replace(tzinfo=UTC)  # its next midnight is past year 9999
            moment = datetime.combine(day + timedelta(days=1) if end else day, time.min)
    except ValueError as exc:
        raise ValidationError(
            {"to" if end else "from": [f"Not an ISO date or datetime: {value[:40]!r}."]}
        ) from exc
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    # In UTC: ISO allows offsets up to ±23:59, PostgreSQL refuses any past ±15:59 (a 500).
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        # Before year 1 or after 9999 once in UTC: as far as a datetime goes.
        return (datetime.max if moment.year == datetime.max.year else datetime.min).replace(
            tzinfo=UTC
        )


def _period(start: str | None, end: str | None):
    start_at, end_at = _moment(start, end=False), _moment(end, end=True)
    if start_at and end_at and start_at >= end_at:
        raise ValidationError({"to": ["The period must end after it starts."]})
    return start_at, end_at
