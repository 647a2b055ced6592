from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.services import client_ip
from payments import selectors, webhooks
from payments.api import serializers as s
from payments.models import SellerTransfer


@extend_schema(tags=["webhooks"])
class HyperswitchWebhookView(APIView):
    """The payment provider's signed notifications (HMAC-SHA512 of the raw body)."""

    authentication_classes = []
    permission_classes = []
    throttle_classes = []

    @extend_schema(
        request={"application/json": {"type": "object"}},
        parameters=[
            OpenApiParameter(
                webhooks.SIGNATURE_HEADER,
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="Lowercase hex HMAC-SHA512 of the raw body",
            )
        ],
        responses={
            200: s.WebhookReceiptOutput,
            400: OpenApiResponse(description="Not a JSON object, or a refund event without id"),
            401: OpenApiResponse(description="Missing or invalid signature; nothing stored"),
        },
    )
    def post(self, request):
        # request.body is the raw payload, read before any parsing: the signature covers it.
        receipt = webhooks.receive(
            raw_body=request.body,
            signature=request.headers.get(webhooks.SIGNATURE_HEADER),
            remote_addr=client_ip(request),
        )
        return Response(receipt.body, status=receipt.status_code)


@extend_schema(tags=["seller"])
class SellerBalanceView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("currency", str, description="default: EUR")],
        responses={200: s.BalanceOutput},
    )
    def get(self, request):
        currency = (request.query_params.get("currency") or "EUR").upper()[:3]
        return Response(selectors.balance_summary(seller=request.user, currency=currency))


@extend_schema(tags=["seller"])
class SellerTransferListView(generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = s.TransferOutput
    filterset_fields = ["status", "currency"]
    ordering = ["-created_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SellerTransfer.objects.none()
        return selectors.transfers_of(seller=self.request.user)
