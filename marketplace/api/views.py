"""The marketplace's HTTP surface: products, orders (and their refund action), refunds,
licences and signed downloads. An outer layer: it may compose marketplace and payments."""

from django.db.models import Prefetch
from django.http import FileResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.text import slugify
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated, NotFound, PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.services import check_can_publish
from invoicing.selectors import invoice_refs_of_orders
from marketplace import product_files, selectors, services, vat
from marketplace.api import order_json
from marketplace.api import serializers as s
from marketplace.api.filters import ProductFilter
from marketplace.errors import NotLicensed
from marketplace.models import License, Order, Product
from payments import checkout
from payments.api.serializers import DisputeOutput, RefundOutput
from payments.disputes.selectors import dispute_visible_to, disputes_of_orders
from payments.refunds.selectors import refund_visible_to, refunds_of_orders
from payments.refunds.services import request_refund
from tracks.upload_slots import upload_slot
from veza import countries, uploads
from veza.api_errors import ErrorResponse
from veza.client_ip import client_ip, user_agent
from veza.permissions import IsCreatorRole
from veza.scopes import MARKETPLACE_READ, NO_API_KEYS, ORDERS_READ, read_only

ERRORS = {
    400: OpenApiResponse(description="Invalid input or state: `{detail, code}`"),
    401: OpenApiResponse(description="Not authenticated"),
    403: OpenApiResponse(description="Not allowed"),
    404: OpenApiResponse(description="Not found, or not yours to see"),
    415: OpenApiResponse(description="Not multipart/form-data"),
    502: OpenApiResponse(description="The payment provider refused (`psp_error`)"),
    503: OpenApiResponse(description="Scanner down (CLAMAV_REQUIRED) or too many uploads"),
}


def _errors(*codes):
    return {code: ERRORS[code] for code in codes}


COUNTRY_PARAMETER = OpenApiParameter(
    "country",
    str,
    enum=countries.ACCEPTED_CODES,
    description="ISO 3166-1 alpha-2 (e.g. DE): adds `vat_rate` and `gross_price` (the consumer "
    "price in that country today) to each product; without it they are null. An unknown code "
    "is 400 `invalid_country`.",
)


@extend_schema(tags=["marketplace"])
@extend_schema_view(
    list=extend_schema(
        parameters=[COUNTRY_PARAMETER],
        responses={200: s.ProductOutput(many=True), 400: ErrorResponse("", "invalid_country")},
    ),
    retrieve=extend_schema(
        parameters=[COUNTRY_PARAMETER],
        responses={
            200: s.ProductOutput,
            400: ErrorResponse("", "invalid_country"),
            **_errors(404),
        },
    ),
    create=extend_schema(
        request=s.ProductInput,
        responses={
            201: s.ProductOutput,
            403: ErrorResponse("Not a creator, or suspended", "account_suspended"),
            **_errors(400, 401),
        },
    ),
    partial_update=extend_schema(
        request=s.ProductInput(partial=True),
        responses={200: s.ProductOutput, **_errors(400, 401, 403, 404)},
    ),
    destroy=extend_schema(responses={204: None, **_errors(401, 403, 404)}),
)
class ProductViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    api_key_scopes = read_only(MARKETPLACE_READ)
    serializer_class = s.ProductOutput
    filterset_class = ProductFilter
    ordering_fields = ["created_at", "price", "title"]
    ordering = ["-created_at"]
    lookup_value_converter = "uuid"
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_permissions(self):
        if self.action == "create":
            return [IsAuthenticated(), IsCreatorRole()]
        return []

    def get_queryset(self):
        if self.action == "list":
            return selectors.active_products()
        return selectors.visible_products(self.request.user)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        country = self.request.query_params.get("country") if self.request else None
        if country is not None and self.action in ("list", "retrieve"):
            context["vat_rate"] = vat.standard_rate(vat.parse_country(country))
        return context

    def _check_seller(self, product: Product) -> None:
        user = self.request.user
        if not user.is_authenticated:
            raise NotAuthenticated()
        if product.seller_id != user.pk and not user.is_admin:
            raise PermissionDenied("Only the seller or an admin may change this product.")

    def create(self, request):
        check_can_publish(request.user)  # a suspended seller is told so before any validation
        data = s.ProductInput(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        product = services.create_product(
            seller=request.user, request=request, **data.validated_data
        )
        return Response(s.ProductOutput(product).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        product = self.get_object()
        self._check_seller(product)
        data = s.ProductInput(data=request.data, partial=True, context={"request": request})
        data.is_valid(raise_exception=True)
        product = services.update_product(
            product=product, actor=request.user, data=data.validated_data, request=request
        )
        return Response(s.ProductOutput(product).data)

    def destroy(self, request, pk=None):
        product = self.get_object()
        self._check_seller(product)
        services.deactivate_product(product=product, actor=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request={"multipart/form-data": s.ProductFileInput},
        responses={
            200: s.ProductOutput,
            400: ErrorResponse(
                "The file is refused",
                "invalid_file",
                "infected_file",
                "track_product_file",
            ),
            503: ErrorResponse(
                "Scanner down or too many uploads", "scanner_unavailable", "too_many_uploads"
            ),
            **_errors(401, 403, 404, 415),
        },
        description="Upload (POST) or replace (PUT) the deliverable of a pack, sample or "
        "license product: zip, wav, mp3, flac or pdf, checked by content, at most "
        "MAX_UPLOAD_SIZE, virus-scanned like track uploads (`invalid_file`, `infected_file`, "
        "`track_product_file` for a track product, 503 `scanner_unavailable`). The seller "
        "or an admin.",
    )
    @action(
        detail=True,
        methods=["post", "put"],
        url_path="file",
        url_name="file",
        parser_classes=[MultiPartParser, FormParser],
        filter_backends=[],
    )
    def file(self, request, pk=None):
        product = self.get_object()
        self._check_seller(product)
        uploads.check_declared_size(request.META.get("CONTENT_LENGTH"))
        # The slot is taken before the body is parsed: receiving and scanning are the cost.
        with upload_slot(kind="product"):
            data = s.ProductFileInput(data=request.data)
            data.is_valid(raise_exception=True)
            product = services.attach_product_file(
                product=product,
                upload=data.validated_data["file"],
                actor=request.user,
                request=request,
            )
        return Response(s.ProductOutput(product).data)


@extend_schema(tags=["marketplace"])
@extend_schema_view(
    list=extend_schema(responses={200: s.OrderOutput(many=True), **_errors(401)}),
    retrieve=extend_schema(responses={200: s.OrderOutput, **_errors(401, 404)}),
    create=extend_schema(
        request=s.OrderInput,
        responses={
            201: s.OrderCreatedOutput,
            400: ErrorResponse(
                "The order is refused",
                "invalid_order",
                "invalid_country",
                "invalid_vat_number",
                "billing_country_required",
            ),
            502: ErrorResponse("The payment provider refused", "psp_error"),
            **_errors(401),
        },
        description="Places an order of net-priced products and creates the provider payment "
        "for its total, VAT included: per item round_half_up(price × rate / 100) at the "
        "standard rate of the buyer's country that day (the order's `billing_country`, else "
        "the profile's `country`, else DEFAULT_BILLING_COUNTRY; 0 outside the EU). Errors "
        "(400): `invalid_order`, `invalid_country`, `invalid_vat_number` (bad format or check "
        "digits, a prefix that is not the billing country's, a VAT number with a non-EU "
        "country, or VIES says invalid), `billing_country_required` (no country known and "
        "VAT_REQUIRE_COUNTRY). `psp_error` (502).",
    ),
)
class OrderViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    api_key_scopes = read_only(ORDERS_READ)
    permission_classes = [IsAuthenticated]
    serializer_class = s.OrderOutput
    filterset_fields = ["status"]
    ordering_fields = ["created_at", "total_amount"]
    ordering = ["-created_at"]
    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        return selectors.orders_for(self.request.user).prefetch_related(
            Prefetch("refunds", queryset=refunds_of_orders()),
            Prefetch("disputes", queryset=disputes_of_orders()),
            Prefetch("invoices", queryset=invoice_refs_of_orders()),
        )

    def retrieve(self, request, pk=None):
        # The checkout's read: plain rows rendered as OrderOutput (marketplace/api/order_json),
        # without the list's filter backends, prefetches and nested serializers.
        order = order_json.order_detail(user=request.user, order_id=pk)
        if order is None:
            raise NotFound()
        return Response(order)

    def create(self, request):
        data = s.OrderInput(data=request.data)
        data.is_valid(raise_exception=True)
        order, payment = checkout.place_order(
            buyer=request.user,
            product_ids=[item["product_id"] for item in data.validated_data["items"]],
            billing_country=data.validated_data.get("billing_country", ""),
            vat_number=data.validated_data.get("vat_number", ""),
            request=request,
        )
        return Response(
            {"order": order_json.placed_order(order, buyer=request.user), "payment": payment},
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        tags=["refunds"],
        request=s.RefundInput,
        responses={
            200: s.RefundRequestedOutput,
            202: OpenApiResponse(
                s.RefundRequestedOutput,
                description="Provider outcome unknown: pending, settled by reconciliation",
            ),
            400: ErrorResponse(
                "The refund is refused",
                "refund_already_requested",
                "order_not_refundable",
                "refund_window_expired",
                "order_disputed",
                "invalid_refund_items",
            ),
            502: ErrorResponse("The payment provider refused", "psp_error"),
            **_errors(401, 403, 404),
        },
        description=(
            "Opens a refund (`pending`) and asks the payment provider. The refund becomes "
            "`succeeded` or `failed` only when the provider's signed webhook says so; follow "
            "it with GET /marketplace/refunds/{id}. Errors: `refund_already_requested`, "
            "`order_not_refundable`, `refund_window_expired`, `order_disputed`, "
            "`invalid_refund_items` (400), `psp_error` (502). Without `items`, every item not "
            "yet refunded (a seller: its own); the amount is what the buyer paid for the "
            "items: their prices plus their VAT."
        ),
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def refund(self, request, pk=None):
        data = s.RefundInput(data=request.data)
        data.is_valid(raise_exception=True)
        submission = request_refund(
            order_id=pk,
            requested_by=request.user,
            reason=data.validated_data["reason"],
            item_ids=data.validated_data.get("items"),
            request=request,
        )
        refund = submission.refund
        return Response(
            {
                "refund": {
                    "id": str(refund.pk),
                    "status": refund.status,
                    "amount": refund.amount,
                    "items": [str(ri.order_item_id) for ri in refund.refund_items.all()],
                },
                "message": submission.message,
            },
            status=status.HTTP_200_OK if submission.accepted else status.HTTP_202_ACCEPTED,
        )


@extend_schema(tags=["refunds"])
class RefundViewSet(viewsets.GenericViewSet):
    api_key_scopes = read_only(ORDERS_READ)
    permission_classes = [IsAuthenticated]
    serializer_class = RefundOutput
    lookup_value_converter = "uuid"

    @extend_schema(responses={200: RefundOutput, **_errors(401, 404)})
    def retrieve(self, request, pk=None):
        refund = refund_visible_to(user=request.user, pk=pk)
        if refund is None:
            raise NotFound()
        return Response(RefundOutput(refund).data)


@extend_schema(tags=["disputes"])
class DisputeViewSet(viewsets.GenericViewSet):
    api_key_scopes = read_only(ORDERS_READ)
    permission_classes = [IsAuthenticated]
    serializer_class = DisputeOutput
    lookup_value_converter = "uuid"

    @extend_schema(responses={200: DisputeOutput, **_errors(401, 404)})
    def retrieve(self, request, pk=None):
        dispute = dispute_visible_to(user=request.user, pk=pk)
        if dispute is None:
            raise NotFound()
        return Response(DisputeOutput(dispute).data)


@extend_schema(tags=["marketplace"])
class LicenseViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    api_key_scopes = read_only(ORDERS_READ)
    permission_classes = [IsAuthenticated]
    serializer_class = s.LicenseOutput
    ordering = ["-granted_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return License.objects.none()
        return selectors.licenses_of(self.request.user)


@extend_schema(tags=["marketplace"])
class DownloadLinkView(APIView):
    api_key_scopes = read_only(ORDERS_READ)
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={
            200: s.SignedUrlOutput,
            403: ErrorResponse("No active licence for it", "no_active_license"),
            **_errors(401, 404),
        }
    )
    def get(self, request, product_id):
        product = get_object_or_404(Product, pk=product_id)
        if selectors.active_license(user=request.user, product=product) is None:
            raise NotLicensed()
        token, expires_at = services.sign_download(product=product, user=request.user)
        path = reverse("marketplace-file", kwargs={"token": token})
        return Response({"url": request.build_absolute_uri(path), "expires_at": expires_at})


@extend_schema(tags=["marketplace"])
class SignedFileView(APIView):
    """Streams a product's file for a signed, unexpired link whose holder is still licensed."""

    api_key_scopes = NO_API_KEYS

    authentication_classes = []

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(description="The file"),
            302: OpenApiResponse(
                description="With MEDIA_PRESIGNED_DOWNLOAD_SECONDS and an object store: "
                "a redirect to a short-lived presigned URL of the file"
            ),
            **_errors(403, 404),
        }
    )
    def get(self, request, token):
        claims = services.read_download_token(token)
        product = get_object_or_404(Product.objects.select_related("track"), pk=claims.get("p"))
        user = User.objects.filter(pk=claims.get("u"), is_active=True).first()
        if user is None or selectors.active_license(user=user, product=product) is None:
            raise NotLicensed()
        if product.product_type == Product.Type.TRACK:
            stored = product.track.file if product.track_id else None
        else:
            stored = product.file
        if not stored:
            raise NotFound("This product has no file to download.")
        extension = stored.name.rsplit(".", 1)[-1] if "." in stored.name else ""
        filename = f"{slugify(product.title) or 'download'}.{extension}".rstrip(".")
        presigned = services.presigned_download_url(stored=stored, filename=filename)
        if presigned:
            self._record(request, product=product, user=user)
            return HttpResponseRedirect(presigned)
        try:
            handle = stored.storage.open(stored.name, "rb")
        except FileNotFoundError as exc:
            raise NotFound("The file is missing.") from exc
        self._record(request, product=product, user=user)
        return FileResponse(
            handle,
            as_attachment=True,
            filename=filename,
            content_type=product_files.content_type_of(stored.name),
        )

    @staticmethod
    def _record(request, *, product: Product, user) -> None:
        # The fetch of the file itself, not the link: the access log a chargeback is answered
        # with.
        services.record_download(
            product=product,
            user=user,
            ip_address=client_ip(request),
            user_agent=user_agent(request),
        )
