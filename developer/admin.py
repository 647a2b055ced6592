"""The staff's developer page: webhook endpoints with their failure rates, disable/enable
(audited, through the same service as the API), recent deliveries and API keys, read-only."""

from datetime import timedelta

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from rest_framework_api_key.models import APIKey as LibraryAPIKey

from developer import services
from developer.models import (
    APIKey,
    OutboxEvent,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookEndpoint,
)

# The library's own (unused) key model would show an empty "API keys" page next to ours.
if admin.site.is_registered(LibraryAPIKey):
    admin.site.unregister(LibraryAPIKey)

FAILURE_WINDOW = timedelta(days=7)
RECENT_DELIVERIES = 20


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnly):
    list_display = [
        "url",
        "owner",
        "is_active",
        "deliveries_7d",
        "failure_rate",
        "failing_since",
        "disabled_reason",
        "created_at",
    ]
    list_filter = ["is_active"]
    search_fields = ["url", "owner__email", "owner__username"]
    list_select_related = ["owner"]
    actions = ["disable_endpoints", "enable_endpoints"]
    exclude = ["secret"]  # the signing secret is its owner's, shown once
    readonly_fields = [
        "owner",
        "url",
        "description",
        "events",
        "is_active",
        "failing_since",
        "disabled_at",
        "disabled_reason",
        "created_at",
        "recent_deliveries",
    ]

    def get_queryset(self, request):
        since = timezone.now() - FAILURE_WINDOW
        recent = Q(deliveries__created_at__gte=since)
        return (
            super()
            .get_queryset(request)
            .annotate(
                total_7d=Count("deliveries", filter=recent),
                failed_7d=Count(
                    "deliveries",
                    filter=recent
                    & (
                        Q(deliveries__status=WebhookDelivery.Status.FAILED)
                        | Q(
                            deliveries__status=WebhookDelivery.Status.PENDING,
                            deliveries__attempts__gt=0,
                        )
                    ),
                ),
            )
        )

    @admin.display(description="deliveries (7 days)", ordering="total_7d")
    def deliveries_7d(self, endpoint) -> int:
        return endpoint.total_7d

    @admin.display(description="failing (7 days)", ordering="failed_7d")
    def failure_rate(self, endpoint) -> str:
        if not endpoint.total_7d:
            return "—"
        return f"{100 * endpoint.failed_7d / endpoint.total_7d:.0f} %"

    @admin.display(description="recent deliveries")
    def recent_deliveries(self, endpoint) -> str:
        rows = (
            WebhookDelivery.objects.filter(endpoint=endpoint)
            .select_related("event")
            .order_by("-created_at")[:RECENT_DELIVERIES]
        )
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    d.created_at,
                    d.event.type,
                    d.status,
                    d.attempts,
                    d.response_status_code or "—",
                    f"{d.duration_ms} ms" if d.duration_ms is not None else "—",
                    d.error or "",
                )
                for d in rows
            ),
        )
        return format_html(
            "<table><tr><th>created</th><th>event</th><th>status</th><th>attempts</th>"
            "<th>response</th><th>duration</th><th>error</th></tr>{}</table>",
            body,
        )

    def _set_active(self, request, queryset, active: bool) -> None:
        changed = 0
        for endpoint in queryset:
            if endpoint.is_active != active:
                services.set_endpoint_active(
                    endpoint=endpoint, active=active, actor=request.user, request=request
                )
                changed += 1
        verb = "enabled" if active else "disabled"
        self.message_user(request, f"{changed} endpoint(s) {verb}.", messages.SUCCESS)

    def has_toggle_permission(self, request) -> bool:
        return request.user.has_perm("developer.change_webhookendpoint")

    @admin.action(description="Disable the selected endpoints", permissions=["toggle"])
    def disable_endpoints(self, request, queryset):
        self._set_active(request, queryset, False)

    @admin.action(description="Enable the selected endpoints", permissions=["toggle"])
    def enable_endpoints(self, request, queryset):
        self._set_active(request, queryset, True)


class WebhookDeliveryAttemptInline(admin.TabularInline):
    """Every HTTP call of the delivery, oldest first; a log, so read-only."""

    model = WebhookDeliveryAttempt
    fields = ["number", "attempted_at", "response_status_code", "duration_ms", "error"]
    readonly_fields = fields
    ordering = ["number"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnly):
    inlines = [WebhookDeliveryAttemptInline]
    list_display = [
        "created_at",
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "response_status_code",
        "duration_ms",
        "next_attempt_at",
        "error",
    ]
    list_filter = ["status"]
    list_select_related = ["event", "endpoint"]
    search_fields = ["endpoint__url", "event__type"]

    @admin.display(description="event", ordering="event__type")
    def event_type(self, delivery) -> str:
        return delivery.event.type


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnly):
    list_display = ["created_at", "type", "public", "dispatched_at"]
    list_filter = ["type", "public"]


@admin.register(APIKey)
class APIKeyAdmin(ReadOnly):
    list_display = ["name", "prefix", "owner", "scopes", "created", "last_used_at", "revoked"]
    list_filter = ["revoked"]
    search_fields = ["name", "prefix", "owner__email"]
    list_select_related = ["owner"]
    exclude = ["hashed_key"]
