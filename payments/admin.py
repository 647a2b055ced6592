"""The refund console and read-only views of the ledger, transfers and webhook events.

Refunds change only through actions, and the actions call the same services as the API and
the reconciliation task (``payments.services``), never a copy of them.
"""

import uuid

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.db.models import Prefetch
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince

from audit.services import record
from marketplace.models import License, OrderItem
from payments.admin_overview import STATUS_COLOURS
from payments.models import LedgerEntry, Refund, SellerBalance, SellerTransfer, WebhookEvent
from payments.selectors import stuck_refunds
from payments.services import reconcile_refund
from veza.money import format_money as money


def _table(headers: list[str], rows: list[tuple]) -> str:
    if not rows:
        return format_html("<em>{}</em>", "none")
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        ((format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows),
    )
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Visible to those allowed to view, changeable by nobody (superusers included)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class StuckFilter(admin.SimpleListFilter):
    title = "stuck"
    parameter_name = "stuck"

    def lookups(self, request, model_admin):
        return [("yes", "Stuck (pending too long)")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset & stuck_refunds()
        return queryset


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = (
        "short_id",
        "order_link",
        "buyer",
        "sellers",
        "amount_display",
        "status_badge",
        "provider_id",
        "age",
        "requested_by",
    )
    list_filter = ("status", StuckFilter, ("created_at", admin.DateFieldListFilter))
    search_fields = ("hyperswitch_refund_id", "order__buyer__email", "order__buyer__username")
    search_help_text = "Refund or order id, provider id, buyer email or username"
    list_select_related = ("order__buyer", "requested_by")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    actions = ["sync_with_provider"]
    fieldsets = (
        (
            "Refund",
            {
                "fields": (
                    "id",
                    "status_badge",
                    "amount_display",
                    "reason",
                    "hyperswitch_refund_id",
                    "error_message",
                    "requested_by",
                    "created_at",
                    "updated_at",
                    "succeeded_at",
                    "failed_at",
                )
            },
        ),
        ("Order", {"fields": ("order_summary", "items_table", "licences_table")}),
        ("Money", {"fields": ("ledger_table",)}),
        ("Provider notifications", {"fields": ("webhooks_table",)}),
    )
    # Every field of the detail page is read-only: refunds change through actions only.
    readonly_fields = flatten_fieldsets(fieldsets)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch(
                    "order__items",
                    queryset=OrderItem.objects.select_related("seller").order_by("id"),
                )
            )
        )

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        try:
            ident = uuid.UUID(term)
        except ValueError:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(pk=ident) | queryset.filter(order_id=ident), False

    # --- list columns ---------------------------------------------------------------------
    @admin.display(description="refund", ordering="id")
    def short_id(self, refund: Refund) -> str:
        return str(refund.pk)[:8]

    @admin.display(description="order", ordering="order")
    def order_link(self, refund: Refund) -> str:
        url = reverse("admin:marketplace_order_change", args=[refund.order_id])
        return format_html('<a href="{}">{}</a>', url, str(refund.order_id)[:8])

    @admin.display(description="buyer", ordering="order__buyer__username")
    def buyer(self, refund: Refund) -> str:
        return refund.order.buyer.username

    @admin.display(description="sellers")
    def sellers(self, refund: Refund) -> str:
        return ", ".join(sorted({item.seller.username for item in refund.order.items.all()}))

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, refund: Refund) -> str:
        return money(refund.amount, refund.currency)

    @admin.display(description="status", ordering="status")
    def status_badge(self, refund: Refund) -> str:
        return format_html(
            '<span style="color:#fff;background:{};padding:2px 8px;border-radius:8px">{}</span>',
            STATUS_COLOURS.get(refund.status, "#666"),
            refund.get_status_display(),
        )

    @admin.display(description="provider id", ordering="hyperswitch_refund_id")
    def provider_id(self, refund: Refund) -> str:
        return refund.hyperswitch_refund_id or "— not sent"

    @admin.display(description="age", ordering="created_at")
    def age(self, refund: Refund) -> str:
        return timesince(refund.created_at)

    # --- detail sections ------------------------------------------------------------------
    @admin.display(description="order")
    def order_summary(self, refund: Refund) -> str:
        order = refund.order
        url = reverse("admin:marketplace_order_change", args=[order.pk])
        return format_html(
            '<a href="{}">{}</a> — {} — buyer {} — total {} — paid {} — refund deadline {}',
            url,
            order.pk,
            order.get_status_display(),
            order.buyer.username,
            money(order.total_amount, order.currency),
            order.completed_at or "—",
            order.refund_deadline or "—",
        )

    @admin.display(description="items")
    def items_table(self, refund: Refund) -> str:
        items = refund.order.items.select_related("product", "seller")
        return _table(
            ["product", "seller", "price"],
            [(i.product.title, i.seller.username, money(i.price, i.currency)) for i in items],
        )

    @admin.display(description="licences")
    def licences_table(self, refund: Refund) -> str:
        licences = License.objects.filter(order=refund.order_id).select_related("product", "buyer")
        return _table(
            ["product", "holder", "granted", "revoked"],
            [
                (lic.product.title, lic.buyer.username, lic.granted_at, lic.revoked_at or "active")
                for lic in licences
            ],
        )

    @admin.display(description="ledger entries of the order")
    def ledger_table(self, refund: Refund) -> str:
        entries = LedgerEntry.objects.filter(order=refund.order_id).select_related("seller")
        return _table(
            ["when", "seller", "kind", "requested", "applied", "balance after"],
            [
                (
                    e.created_at,
                    e.seller.username,
                    e.get_kind_display(),
                    money(e.requested_amount, e.currency),
                    money(e.applied_amount, e.currency),
                    money(e.balance_after, e.currency),
                )
                for e in entries.order_by("created_at")
            ],
        )

    @admin.display(description="webhook events")
    def webhooks_table(self, refund: Refund) -> str:
        events = WebhookEvent.objects.filter(refund=refund) | WebhookEvent.objects.filter(
            refund_ref__in=[str(refund.pk), refund.hyperswitch_refund_id or str(refund.pk)]
        )
        return _table(
            ["received", "event", "status", "outcome", "detail", "source"],
            [
                (e.received_at, e.event_type, e.status, e.outcome, e.detail, e.source)
                for e in events.distinct().order_by("received_at")
            ],
        )

    # --- actions --------------------------------------------------------------------------
    def has_sync_permission(self, request) -> bool:
        return request.user.has_perm("payments.sync_refund")

    @admin.action(description="Sync with provider now", permissions=["sync"])
    def sync_with_provider(self, request, queryset):
        """Ask the provider about each selected refund, through reconciliation's code."""
        refunds = list(queryset.select_related("order"))
        if request.POST.get("confirm") != "yes":
            return TemplateResponse(
                request,
                "admin/payments/refund/sync_confirmation.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Sync with the payment provider",
                    "refunds": refunds,
                    "opts": self.model._meta,
                    "action": "sync_with_provider",
                    "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                },
            )
        for refund in refunds:
            before = refund.status
            try:
                outcome = reconcile_refund(refund=refund)
            except Exception as exc:  # noqa: BLE001 - reported to the operator, per refund
                outcome = f"error: {exc}"
            refund.refresh_from_db()
            record(
                action="admin.refund_sync",
                actor=request.user,
                target=refund,
                request=request,
                details={"before": before, "after": refund.status, "outcome": outcome},
            )
            level = messages.SUCCESS if refund.is_terminal else messages.WARNING
            if outcome.startswith("error"):
                level = messages.ERROR
            self.message_user(
                request,
                f"Refund {str(refund.pk)[:8]}: {outcome} (status {before} → {refund.status}).",
                level,
            )
        return None


@admin.register(SellerBalance)
class SellerBalanceAdmin(ReadOnlyAdmin):
    list_display = ("seller", "available_display", "currency", "updated_at")
    list_filter = ("currency",)
    search_fields = ("seller__username", "seller__email")
    list_select_related = ("seller",)

    @admin.display(description="available", ordering="available")
    def available_display(self, balance: SellerBalance) -> str:
        return money(balance.available, balance.currency)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "seller",
        "kind",
        "requested",
        "applied",
        "balance",
        "order",
        "refund",
    )
    list_filter = ("kind", "currency")
    search_fields = ("seller__username", "seller__email")
    list_select_related = ("seller", "order", "refund")
    date_hierarchy = "created_at"

    @admin.display(description="requested", ordering="requested_amount")
    def requested(self, entry: LedgerEntry) -> str:
        return money(entry.requested_amount, entry.currency, signed=True)

    @admin.display(description="applied", ordering="applied_amount")
    def applied(self, entry: LedgerEntry) -> str:
        return money(entry.applied_amount, entry.currency, signed=True)

    @admin.display(description="balance after", ordering="balance_after")
    def balance(self, entry: LedgerEntry) -> str:
        return money(entry.balance_after, entry.currency)


@admin.register(SellerTransfer)
class SellerTransferAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "seller", "amount_display", "status", "order")
    list_filter = ("status", "currency")
    search_fields = ("seller__username", "provider_transfer_id")
    list_select_related = ("seller", "order")

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, transfer: SellerTransfer) -> str:
        return money(transfer.amount, transfer.currency)


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


from payments import admin_payouts  # noqa: E402, F401 - the payout console registers itself
