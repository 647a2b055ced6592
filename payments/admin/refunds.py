"""The refund console (its bulk syncs' progress: ``payments.admin.sync_batches``).

Refunds change only through actions, and the actions call the same services as the API and
the reconciliation task (``payments.refunds``), never a copy of them.
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.db.models import Prefetch
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.timesince import timesince

from audit.admin_export import CsvExportMixin, iso, major, text
from audit.services import record
from marketplace.models import OrderItem
from payments.admin.common import (
    STATUS_COLOURS,
    licences_table,
    order_link,
    order_summary,
    refund_link,
    status_badge,
)
from payments.admin.filters import StuckFilter
from payments.admin.four_eyes import FourEyesDecisionsMixin
from payments.admin.notes import (
    InternalNotesMixin,
    NoteInline,
    describe_timeline_item,
)
from payments.models import (
    LedgerEntry,
    Refund,
    RefundNote,
    WebhookEvent,
)
from payments.notes import add_refund_note
from payments.refunds.reconcile import ReconcileOutcome, reconcile_refund
from payments.refunds.sync import start_batch
from payments.timeline import timeline
from veza.admin_search import IndexedSearchMixin
from veza.admin_tools import (
    ReadOnlyAdmin,
    html_table,
    short_id,
    timeline_table,
    when,
)
from veza.money import format_money as money

SYNC_IN_REQUEST = 20  # more refunds than this are synced on the worker


class RefundNoteInline(NoteInline):
    model = RefundNote


@admin.register(Refund)
class RefundAdmin(
    FourEyesDecisionsMixin, InternalNotesMixin, CsvExportMixin, IndexedSearchMixin, ReadOnlyAdmin
):
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
    search_fields = (
        "provider_refund_id__startswith",
        "order__hyperswitch_payment_id__startswith",
        "order__buyer__email__istartswith",
        "order__buyer__username__istartswith",
        "requested_by__email__istartswith",
    )
    search_help_text = (
        "Refund or order id, provider refund id, payment id, buyer email or username, "
        "requester email — each by its first characters"
    )
    id_prefix_fields = ("id", "order_id")
    list_select_related = ("order__buyer", "requested_by")
    export_columns = (
        iso("created_at"),
        text("refund_id", "pk"),
        text("order_id"),
        text("payment_id", "order__hyperswitch_payment_id"),
        text("provider_refund_id"),
        text("status"),
        text("currency"),
        major("amount", "amount"),
        text("amount_minor", "amount"),
        text("buyer", "order__buyer__email"),
        text("requested_by", "requested_by__email"),
        text("reason"),
        iso("succeeded_at"),
        iso("failed_at"),
    )
    export_totals = (("amount", "amount"),)
    ordering = ("-created_at",)
    actions = ["sync_with_provider", "approve_refunds", "reject_refunds"]
    inlines = [RefundNoteInline]
    note_subject = "refund"
    change_form_template = "admin/payments/refund/change_form.html"
    fieldsets = (
        (
            "Refund",
            {
                "fields": (
                    "id",
                    "status_badge",
                    "amount_display",
                    "reason",
                    "provider_refund_id",
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
        ("Timeline", {"fields": ("timeline_table",)}),
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

    def get_ordering(self, request):
        if request.GET.get(StuckFilter.parameter_name) == "yes":
            return ("created_at",)  # the most urgent, the oldest, first
        return super().get_ordering(request)

    # --- list columns ---------------------------------------------------------------------
    @admin.display(description="refund", ordering="id")
    def short_id(self, refund: Refund) -> str:
        return short_id(refund.pk)

    @admin.display(description="order", ordering="order")
    def order_link(self, refund: Refund) -> str:
        return order_link(refund.order_id)

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
        return status_badge(refund.get_status_display(), STATUS_COLOURS.get(refund.status, "#666"))

    @admin.display(description="provider id", ordering="provider_refund_id")
    def provider_id(self, refund: Refund) -> str:
        return refund.provider_refund_id or "— not sent"

    @admin.display(description="age", ordering="created_at")
    def age(self, refund: Refund) -> str:
        return timesince(refund.created_at)

    # --- detail sections ------------------------------------------------------------------
    @admin.display(description="order")
    def order_summary(self, refund: Refund) -> str:
        order = refund.order
        return order_summary(
            order,
            [("paid", when(order.completed_at)), ("refund deadline", when(order.refund_deadline))],
        )

    @admin.display(description="items")
    def items_table(self, refund: Refund) -> str:
        items = refund.order.items.select_related("product", "seller")
        return html_table(
            ["product", "seller", "price"],
            [(i.product.title, i.seller.username, money(i.price, i.currency)) for i in items],
        )

    @admin.display(description="licences")
    def licences_table(self, refund: Refund) -> str:
        return licences_table(refund.order_id)

    @admin.display(description="ledger entries of the order")
    def ledger_table(self, refund: Refund) -> str:
        entries = LedgerEntry.objects.filter(order=refund.order_id).select_related("seller")
        return html_table(
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
            refund_ref__in=[str(refund.pk), refund.provider_refund_id or str(refund.pk)]
        )
        return html_table(
            ["received", "event", "status", "outcome", "detail", "source"],
            [
                (e.received_at, e.event_type, e.status, e.outcome, e.detail, e.source)
                for e in events.distinct().order_by("received_at")
            ],
        )

    @admin.display(description="everything that happened, oldest first")
    def timeline_table(self, refund: Refund) -> str:
        return timeline_table(timeline(refund_ids=[refund.pk]), describe_timeline_item)

    def add_internal_note(self, *, obj, author, text: str, request):
        return add_refund_note(refund=obj, author=author, text=text, request=request)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {"may_decide": self.has_approve_permission(request), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context=extra)

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
        if len(refunds) > SYNC_IN_REQUEST:
            # Thousands of provider calls would outlive the request: the worker runs them.
            batch = start_batch(refunds=refunds, actor=request.user, request=request)
            url = reverse("admin:payments_refundsyncbatch_change", args=[batch.pk])
            self.message_user(
                request,
                format_html(
                    '{} refunds queued to the worker, oldest first: <a href="{}">follow the '
                    "sync batch</a> (how many are done, how many changed status, errors).",
                    len(refunds),
                    url,
                ),
                messages.INFO,
            )
            return None
        for refund in sorted(refunds, key=lambda r: r.created_at):
            self._sync_one(request, refund)
        return None

    def _sync_one(self, request, refund: Refund) -> None:
        link = refund_link(refund.pk, f"Refund {short_id(refund.pk)}")
        before = refund.status
        if refund.is_terminal:
            status = refund.get_status_display().lower()
            self.message_user(
                request,
                format_html("{}: already {} — nothing to sync.", link, status),
                messages.INFO,
            )
            return
        if before == Refund.Status.AWAITING_APPROVAL:
            self.message_user(
                request,
                format_html(
                    "{}: awaiting approval — it goes to the provider once a second Finance "
                    "member approves it.",
                    link,
                ),
                messages.WARNING,
            )
            return
        outcome, error = None, ""
        try:
            outcome = reconcile_refund(refund=refund)
        except Exception as exc:  # noqa: BLE001 - reported to the operator, per refund
            error = str(exc)
        refund.refresh_from_db()
        details = {
            "before": before,
            "after": refund.status,
            "outcome": "error" if outcome is None else outcome.value,
        }
        if outcome is None:
            details["error"] = error
        record(
            action="admin.refund_sync",
            actor=request.user,
            target=refund,
            request=request,
            details=details,
        )
        if refund.status == Refund.Status.SUCCEEDED:
            text, level = (
                "the provider confirmed it: succeeded — the order is refunded.",
                messages.SUCCESS,
            )
        elif refund.status == Refund.Status.FAILED:
            text, level = f"the provider reports it failed: {refund.error_message}", messages.ERROR
        elif outcome is None:
            text, level = f"could not be synced (error: {error}).", messages.ERROR
        elif outcome == ReconcileOutcome.UNREACHABLE:
            text = "the provider did not answer; still pending, reconciliation retries it."
            level = messages.WARNING
        else:
            text = "still pending at the provider; the webhook or reconciliation will settle it."
            level = messages.WARNING
        self.message_user(request, format_html("{}: {}", link, text), level)
