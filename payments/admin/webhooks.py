"""The provider's notifications as they were received, read-only."""

from django.contrib import admin

from payments.models import (
    WebhookEvent,
)
from veza.admin_search import IndexedSearchMixin
from veza.admin_tools import ReadOnlyAdmin


@admin.register(WebhookEvent)
class WebhookEventAdmin(IndexedSearchMixin, ReadOnlyAdmin):
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
    search_fields = (
        "provider_event_id__startswith",
        "payment_id__startswith",
        "refund_ref__startswith",
        "event_type__startswith",
    )
    search_help_text = (
        "Provider event id, payment id, refund reference or event type — each by its first "
        "characters"
    )
    id_prefix_fields = ()
    date_hierarchy = "received_at"
