from datetime import timedelta

import django_filters
from django.conf import settings
from django.core import signing
from django.db.models import Q
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace import selectors, services
from marketplace.api import serializers as s
from marketplace.errors import NotLicensed
from marketplace.models import License, Order, Product
from payments import services as refunds
from payments.api.serializers import RefundOutput  # noqa: F401 (schema)
from payments.models import Refund
from veza.permissions import IsCreatorRole

DOWNLOAD_SALT = "veza.marketplace.download"

ERRORS = {
    400: OpenApiResponse(description="Invalid input or state: `{detail, code}`"),
    401: OpenApiResponse(description="Not authenticated"),
    403: OpenApiResponse(description="Not allowed"),
    404: OpenApiResponse(description="Not found, or not yours to see"),
    502: OpenApiResponse(description="The payment provider refused (`psp_error`)"),
}


def _errors(*codes):
    return {code: ERRORS[code] for code in codes}


class ProductFilter(django_filters.FilterSet):
    product_type = django_filters.ChoiceFilter(choices=Product.Type.choices)
    seller = django_filters.CharFilter(method="filter_seller", help_text="seller id or username")
    q = django_filters.CharFilter(method="filter_q", help_text="search title and description")
    currency = django_filters.CharFilter()
    min_price = django_filters.NumberFilter(field_name="price", lookup_expr="gte")
    max_price = django_filters.NumberFilter(field_name="price", lookup_expr="lte")

    class Meta:
        model = Product
        fields = ["product_type", "seller", "q", "currency"]

    def filter_seller(self, queryset, name, value):
        try:
            import uuid

            return queryset.filter(seller_id=uuid.UUID(value))
        except ValueError:
            return queryset.filter(seller__username__iexact=value)

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(title__icontains=value) | Q(description__icontains=value))


@extend_schema(tags=["marketplace"])
class ProductListView(generics.ListCreateAPIView):
    serializer_class = s.ProductOutput
    filterset_class = ProductFilter
    ordering_fields = ["created_at", "price", "title"]
    ordering = ["-created_at"]

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsAuthenticated(), IsCreatorRole()]
        return []

    def get_queryset(self):
        return selectors.active_products()

    @extend_schema(
        request=s.ProductInput, responses={201: s.ProductOutput, **_errors(400, 401, 403)}
    )
    def post(self, request):
        data = s.ProductInput(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        product = services.create_product(
            seller=request.user, request=request, **data.validated_data
        )
        return Response(s.ProductOutput(product).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["marketplace"])
class ProductDetailView(APIView):
    def get_object(self, pk) -> Product:
        return get_object_or_404(selectors.visible_products(self.request.user), pk=pk)

    def _check_owner(self, product):
        user = self.request.user
        if not user.is_authenticated:
            from rest_framework.exceptions import NotAuthenticated

            raise NotAuthenticated()
        if product.seller_id != user.pk and not user.is_admin:
            raise PermissionDenied("Only the seller or an admin may change this product.")

    @extend_schema(responses={200: s.ProductOutput, **_errors(404)})
    def get(self, request, pk):
        return Response(s.ProductOutput(self.get_object(pk)).data)

    @extend_schema(
        request=s.ProductInput(partial=True),
        responses={200: s.ProductOutput, **_errors(400, 401, 403, 404)},
    )
    def patch(self, request, pk):
        product = self.get_object(pk)
        self._check_owner(product)
        data = s.ProductInput(data=request.data, partial=True, context={"request": request})
        data.is_valid(raise_exception=True)
        product = services.update_product(
            product=product, actor=request.user, data=data.validated_data, request=request
        )
        return Response(s.ProductOutput(product).data)

    @extend_schema(responses={204: None, **_errors(401, 403, 404)})
    def delete(self, request, pk):
        product = self.get_object(pk)
        self._check_owner(product)
        services.deactivate_product(product=product, actor=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["marketplace"])
class OrderListView(generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = s.OrderOutput
    filterset_fields = ["status"]
    ordering_fields = ["created_at", "total_amount"]
    ordering = ["-created_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        return selectors.orders_for(self.request.user)

    @extend_schema(
        request=s.OrderInput, responses={201: s.OrderCreatedOutput, **_errors(400, 401, 502)}
    )
    def post(self, request):
        data = s.OrderInput(data=request.data)
        data.is_valid(raise_exception=True)
        order, payment = services.place_order(
            buyer=request.user,
            product_ids=[item["product_id"] for item in data.validated_data["items"]],
            request=request,
        )
        order = selectors.orders_for(request.user).get(pk=order.pk)
        return Response(
            {"order": s.OrderOutput(order).data, "payment": payment},
            status=status.HTTP_201_CREATED,
        )


@extend_schema(tags=["marketplace"])
class OrderDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.OrderOutput, **_errors(401, 404)})
    def get(self, request, pk):
        order = get_object_or_404(selectors.orders_for(request.user), pk=pk)
        return Response(s.OrderOutput(order).data)


@extend_schema(tags=["refunds"])
class OrderRefundView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=s.RefundInput,
        responses={
            200: s.RefundRequestedOutput,
            202: OpenApiResponse(
                s.RefundRequestedOutput,
                description="Provider outcome unknown: pending, settled by reconciliation",
            ),
            **_errors(400, 401, 403, 404, 502),
        },
        description=(
            "Opens a refund (`pending`) and asks the payment provider. The refund becomes "
            "`succeeded` or `failed` only when the provider's signed webhook says so; follow "
            "it with GET /marketplace/refunds/{id}. Errors: `refund_already_requested`, "
            "`order_not_refundable`, `refund_window_expired` (400), `psp_error` (502)."
        ),
    )
    def post(self, request, pk):
        data = s.RefundInput(data=request.data)
        data.is_valid(raise_exception=True)
        submission = refunds.request_refund(
            order_id=pk,
            requested_by=request.user,
            reason=data.validated_data["reason"],
            request=request,
        )
        return Response(
            {
                "refund": {"id": str(submission.refund.pk), "status": submission.refund.status},
                "message": submission.message,
            },
            status=status.HTTP_200_OK if submission.accepted else status.HTTP_202_ACCEPTED,
        )


@extend_schema(tags=["refunds"])
class RefundDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: RefundOutput, **_errors(401, 404)})
    def get(self, request, pk):
        refund = get_object_or_404(Refund.objects.select_related("order"), pk=pk)
        if not refunds.can_act_on_order(user=request.user, order=refund.order):
            raise NotFound()
        return Response(RefundOutput(refund).data)


@extend_schema(tags=["marketplace"])
class LicenseListView(generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = s.LicenseOutput
    ordering = ["-granted_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return License.objects.none()
        return selectors.licenses_of(self.request.user)


@extend_schema(tags=["marketplace"])
class DownloadLinkView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.SignedUrlOutput, **_errors(401, 403, 404)})
    def get(self, request, product_id):
        product = get_object_or_404(Product, pk=product_id)
        if selectors.active_license(user=request.user, product=product) is None:
            raise NotLicensed()
        ttl = settings.SIGNED_DOWNLOAD_TTL_SECONDS
        token = signing.dumps({"p": str(product.pk), "u": str(request.user.pk)}, salt=DOWNLOAD_SALT)
        path = reverse("marketplace-file", kwargs={"token": token})
        return Response(
            {
                "url": request.build_absolute_uri(path),
                "expires_at": timezone.now() + timedelta(seconds=ttl),
            }
        )


@extend_schema(tags=["marketplace"])
class SignedFileView(APIView):
    """Streams a product's file for a signed, unexpired link whose holder is still licensed."""

    authentication_classes = []

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(description="The file"),
            **_errors(403, 404),
        }
    )
    def get(self, request, token):
        try:
            data = signing.loads(
                token, salt=DOWNLOAD_SALT, max_age=settings.SIGNED_DOWNLOAD_TTL_SECONDS
            )
        except signing.SignatureExpired as exc:
            raise PermissionDenied("This download link has expired.") from exc
        except signing.BadSignature as exc:
            raise PermissionDenied("This download link is invalid.") from exc
        product = get_object_or_404(Product.objects.select_related("track"), pk=data.get("p"))
        from accounts.models import User

        user = User.objects.filter(pk=data.get("u"), is_active=True).first()
        if user is None or selectors.active_license(user=user, product=product) is None:
            raise NotLicensed()
        stored = product.file or (product.track.file if product.track_id else None)
        if not stored:
            raise NotFound("This product has no file to download.")
        try:
            handle = stored.open("rb")
        except FileNotFoundError as exc:
            raise NotFound("The file is missing.") from exc
        return FileResponse(handle, as_attachment=True, filename=stored.name.rsplit("/", 1)[-1])
