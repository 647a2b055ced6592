"""Invoices and credit notes over HTTP, and the admins' quarterly VAT report."""

import uuid

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from invoicing import report, selectors
from invoicing.api import serializers as s
from invoicing.documents import invoice_pdf
from invoicing.models import Invoice
from veza.permissions import IsAdminRole
from veza.scopes import NO_API_KEYS, ORDERS_READ, read_only

NOT_FOUND = OpenApiResponse(description="Not found, or not yours to see")
UNAUTHENTICATED = OpenApiResponse(description="Not authenticated")


class PDFRenderer(BaseRenderer):
    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else b""


@extend_schema(tags=["invoices"])
class InvoiceViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's invoices and credit notes, as the buyer of the orders."""

    api_key_scopes = read_only(ORDERS_READ)
    permission_classes = [IsAuthenticated]
    serializer_class = s.InvoiceOutput
    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Invoice.objects.none()
        queryset = selectors.invoices_of_buyer(self.request.user)
        order = self.request.query_params.get("order")
        if order:
            try:
                queryset = queryset.filter(order_id=uuid.UUID(order))
            except ValueError as exc:
                raise ValidationError({"order": ["Not an order id."]}) from exc
        return queryset

    @extend_schema(
        parameters=[OpenApiParameter("order", OpenApiTypes.UUID, description="one order's")],
        responses={200: s.InvoiceOutput(many=True), 400: OpenApiResponse(), 401: UNAUTHENTICATED},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _visible(self, pk) -> Invoice:
        invoice = selectors.invoice_visible_to(user=self.request.user, pk=pk)
        if invoice is None:
            raise NotFound()
        return invoice

    @extend_schema(responses={200: s.InvoiceOutput, 401: UNAUTHENTICATED, 404: NOT_FOUND})
    def retrieve(self, request, pk=None):
        return Response(s.InvoiceOutput(self._visible(pk)).data)

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            401: UNAUTHENTICATED,
            404: NOT_FOUND,
        }
    )
    @action(detail=True, methods=["get"], renderer_classes=[PDFRenderer, JSONRenderer])
    def pdf(self, request, pk=None):
        invoice = self._visible(pk)
        response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
        return response

    def handle_exception(self, exc):
        # Errors are JSON, even where the answer would have been a PDF.
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)


class VatReportCSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data.encode() if isinstance(data, str) else b""


@extend_schema(tags=["invoices"])
class VatReportView(APIView):
    """A quarter's VAT per country, scheme and rate: invoices minus credit notes."""

    api_key_scopes = NO_API_KEYS
    permission_classes = [IsAuthenticated, IsAdminRole]
    renderer_classes = [JSONRenderer, VatReportCSVRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter("quarter", str, required=True, description="YYYY-Qn, UTC"),
            OpenApiParameter("currency", str, description="default: EUR"),
            OpenApiParameter("format", str, enum=["json", "csv"], description="csv: a file"),
        ],
        responses={
            (200, "application/json"): s.VatReportOutput,
            (200, "text/csv"): OpenApiTypes.STR,
            400: OpenApiResponse(description="Not a quarter (YYYY-Qn)"),
            401: UNAUTHENTICATED,
            403: OpenApiResponse(description="Not an admin"),
        },
    )
    def get(self, request, *args, **kwargs):
        try:
            quarter = report.Quarter.parse(request.query_params.get("quarter"))
        except report.BadQuarter as exc:
            raise ValidationError({"quarter": [str(exc)]}) from exc
        currency = (request.query_params.get("currency") or "EUR").upper()[:3]
        vat = report.vat_report(quarter=quarter, currency=currency)
        if request.accepted_renderer.format == "csv":
            return Response(
                report.report_csv(vat),
                headers={
                    "Content-Disposition": f'attachment; filename="vat-{quarter}-{currency}.csv"'
                },
            )
        return Response(s.VatReportOutput(vat.as_dict()).data)

    def handle_exception(self, exc):
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)
