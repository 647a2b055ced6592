"""The provider's notifications as they were received, read-only."""

from django.contrib import admin

from payments.models import (
    WebhookEvent,
)
from veza.admin_tools import ReadOnlyAdmin


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = (
        "received_at",
        "event_type",
        "kind",
        "status",
        "outcome",
        "payment_id",
        "refund_ref",
        "source",
        "detail",
    )
    list_filter = ("outcome", "kind", "event_type", "source")
    search_fields = ("provider_event_id", "payment_id", "refund_ref", "event_type")
    date_hierarchy = "received_at"
