"""The developer platform's HTTP surface: API keys (signed-in users only) and webhook
endpoints (also with a key holding ``webhooks:manage``)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from developer import selectors, services
from developer.api import serializers as s
from developer.models import APIKey, WebhookEndpoint
from veza.api_errors import ErrorResponse
from veza.scopes import NO_API_KEYS, WEBHOOKS_MANAGE

ERRORS = {
    400: OpenApiResponse(
        description="Invalid input (an unknown scope or event; `webhook_target_refused`)"
    ),
    401: OpenApiResponse(description="Missing or invalid credentials"),
    403: OpenApiResponse(
        description="`email_not_verified`, `api_key_not_allowed` or `insufficient_scope`"
    ),
    404: OpenApiResponse(description="Not found, or not yours"),
}


def _errors(*codes: int) -> dict:
    return {code: ERRORS[code] for code in codes}


@extend_schema(tags=["developer"])
class ApiKeyViewSet(viewsets.GenericViewSet):
    # Keys are managed by a signed-in person, never by a key.
    api_key_scopes = NO_API_KEYS
    permission_classes = [IsAuthenticated]
    serializer_class = s.ApiKeyOutput
    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return APIKey.objects.none()
        return selectors.api_keys_of(self.request.user)

    @extend_schema(responses={200: s.ApiKeyOutput(many=True), **_errors(401, 403)})
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.ApiKeyOutput(page, many=True).data)

    @extend_schema(
        request=s.ApiKeyInput,
        responses={
            201: s.ApiKeyCreatedOutput,
            403: ErrorResponse("Email not verified", "email_not_verified"),
            **_errors(400, 401),
        },
        description="Create a key; `key` is in this answer only (it is stored hashed). "
        "Verified users only.",
    )
    def create(self, request):
        data = s.ApiKeyInput(data=request.data)
        data.is_valid(raise_exception=True)
        api_key, key = services.create_api_key(
            owner=request.user, request=request, **data.validated_data
        )
        api_key.key = key
        return Response(s.ApiKeyCreatedOutput(api_key).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None, **_errors(401, 403, 404)})
    def destroy(self, request, pk):
        api_key = selectors.get_api_key(pk=pk, user=request.user)
        services.revoke_api_key(api_key=api_key, revoked_by=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["developer"])
class WebhookEndpointViewSet(viewsets.GenericViewSet):
    api_key_scopes = {"*": WEBHOOKS_MANAGE}
    permission_classes = [IsAuthenticated]
    serializer_class = s.WebhookEndpointOutput
    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WebhookEndpoint.objects.none()
        return selectors.endpoints_of(self.request.user)

    def _endpoint(self, pk):
        return selectors.get_endpoint(pk=pk, user=self.request.user)

    @extend_schema(responses={200: s.WebhookEndpointOutput(many=True), **_errors(401, 403)})
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.WebhookEndpointOutput(page, many=True).data)

    @extend_schema(
        request=s.WebhookEndpointInput,
        responses={
            201: s.WebhookEndpointCreatedOutput,
            400: ErrorResponse("Invalid, or a refused target", "webhook_target_refused"),
            403: ErrorResponse("Email not verified", "email_not_verified"),
            **_errors(401),
        },
        description="Register an endpoint; `secret` is in this answer only. The URL must be "
        "https in production and must not resolve to a private address.",
    )
    def create(self, request):
        data = s.WebhookEndpointInput(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.create_endpoint(
            owner=request.user, request=request, **data.validated_data
        )
        return Response(
            s.WebhookEndpointCreatedOutput(endpoint).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(responses={200: s.WebhookEndpointOutput, **_errors(401, 403, 404)})
    def retrieve(self, request, pk):
        return Response(s.WebhookEndpointOutput(self._endpoint(pk)).data)

    @extend_schema(
        request=s.WebhookEndpointUpdateInput(partial=True),
        responses={
            200: s.WebhookEndpointOutput,
            400: ErrorResponse("Invalid, or a refused target", "webhook_target_refused"),
            **_errors(401, 403, 404),
        },
        description="Change `url`, `events`, `description`; `is_active: true` re-enables an "
        "endpoint that was disabled after 3 days of failures.",
    )
    def partial_update(self, request, pk):
        endpoint = self._endpoint(pk)
        data = s.WebhookEndpointUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        endpoint = services.update_endpoint(
            endpoint=endpoint, data=data.validated_data, changed_by=request.user, request=request
        )
        return Response(s.WebhookEndpointOutput(endpoint).data)

    @extend_schema(responses={204: None, **_errors(401, 403, 404)})
    def destroy(self, request, pk):
        services.delete_endpoint(
            endpoint=self._endpoint(pk), deleted_by=request.user, request=request
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        responses={202: s.WebhookDeliveryOutput, **_errors(401, 403, 404)},
        description="Send a `ping` event to this endpoint (by the worker).",
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk):
        delivery = services.send_ping(endpoint=self._endpoint(pk))
        delivery.refresh_from_db()
        return Response(s.WebhookDeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: s.WebhookDeliveryOutput(many=True), **_errors(401, 403, 404)})
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk):
        page = self.paginate_queryset(selectors.deliveries_of(self._endpoint(pk)))
        return self.get_paginated_response(s.WebhookDeliveryOutput(page, many=True).data)

    @extend_schema(
        request=None,
        responses={202: s.WebhookDeliveryOutput, **_errors(401, 403, 404)},
        description="Send this delivery again, with the same `webhook-id`.",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="deliveries/<uuid:delivery_id>/redeliver",
        url_name="redeliver",
    )
    def redeliver(self, request, pk, delivery_id):
        delivery = selectors.get_delivery(endpoint=self._endpoint(pk), pk=delivery_id)
        delivery = services.redeliver(delivery=delivery)
        delivery.refresh_from_db()
        return Response(s.WebhookDeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)
