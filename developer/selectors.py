from django.db.models import Prefetch
from django.shortcuts import get_object_or_404

from developer.models import APIKey, WebhookDelivery, WebhookDeliveryAttempt, WebhookEndpoint


def api_keys_of(user):
    return APIKey.objects.filter(owner=user, revoked=False).order_by("-created")


def get_api_key(*, pk, user) -> APIKey:
    """404 for a key of someone else, as for one that does not exist."""
    return get_object_or_404(api_keys_of(user), pk=pk)


def endpoints_of(user):
    return WebhookEndpoint.objects.filter(owner=user).order_by("-created_at")


def get_endpoint(*, pk, user) -> WebhookEndpoint:
    return get_object_or_404(endpoints_of(user), pk=pk)


def deliveries_of(endpoint: WebhookEndpoint):
    return (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .select_related("event")
        # Every attempt of the page's deliveries in one query, oldest first.
        .prefetch_related(
            Prefetch("attempt_log", queryset=WebhookDeliveryAttempt.objects.order_by("number"))
        )
        .order_by("-created_at")
    )


def get_delivery(*, endpoint: WebhookEndpoint, pk) -> WebhookDelivery:
    return get_object_or_404(deliveries_of(endpoint), pk=pk)
