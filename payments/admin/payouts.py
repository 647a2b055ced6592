"""The payout console: payouts by status with their age, a payout's transfers and ledger
entries, and Finance's actions (retry a failed payout, pause or resume a seller's payouts,
run the payout job now). Support reads. Every action is audited and calls the services of
``payments.payouts``, never a copy of them.
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.timesince import timesince

from audit.admin_export import CsvExportMixin, iso, major, text
from audit.services import record
from payments.admin.common import order_link
from payments.admin.filters import CurrencyFilter, StuckPayoutFilter
from payments.admin.notes import InternalNotesMixin, NoteInline, describe_timeline_item
from payments.models import Payout, PayoutMethod, PayoutNote
from payments.notes import add_payout_note
from payments.payouts.methods import set_payouts_paused
from payments.payouts.services import retry_payout
from payments.timeline import timeline
from veza.admin_search import IndexedSearchMixin
from veza.admin_tools import (
    ReadOnlyAdmin,
    html_table,
    short_id,
    timeline_table,
)
from veza.money import format_money as money
from veza.tasks import enqueue_on_commit

RUN_TASK = "payments.tasks.run_payouts"
MANAGE = "payments.manage_payouts"


class ManagePayoutsMixin:
    def has_manage_permission(self, request) -> bool:
        return request.user.has_perm(MANAGE)


class PayoutNoteInline(NoteInline):
    model = PayoutNote


@admin.register(Payout)
class PayoutAdmin(
    InternalNotesMixin, CsvExportMixin, IndexedSearchMixin, ManagePayoutsMixin, ReadOnlyAdmin
):
    list_display = (
        "short_id",
        "seller",
        "amount_display",
        "status",
        "provider_status",
        "age",
        "provider_payout_id",
        "paid_at",
    )
    list_filter = (
        StuckPayoutFilter,
        "status",
        CurrencyFilter,
        ("created_at", admin.DateFieldListFilter),
    )
    search_fields = (
        "provider_payout_id__startswith",
        "seller__email__istartswith",
        "seller__username__istartswith",
    )
    search_help_text = (
        "Payout id, provider payout id, seller email or username — each by its first characters"
    )
    list_select_related = ("seller",)
    export_columns = (
        iso("created_at"),
        text("payout_id", "pk"),
        text("seller", "seller__email"),
        text("status"),
        text("currency"),
        major("amount", "amount"),
        text("amount_minor", "amount"),
        text("provider_payout_id"),
        iso("paid_at"),
    )
    export_totals = (("amount", "amount"),)
    ordering = ("-created_at",)
    actions = ["retry_failed", "pause_sellers", "resume_sellers"]
    change_list_template = "admin/payments/payout/change_list.html"
    fieldsets = (
        (
            "Payout",
            {
                "fields": (
                    "id",
                    "seller",
                    "amount_display",
                    "status",
                    "provider_status",
                    "payout_type",
                    "provider_payout_id",
                    "failure_reason",
                    "created_at",
                    "paid_at",
                    "failed_at",
                    "reversed_at",
                )
            },
        ),
        ("Transfers", {"fields": ("transfers_table",)}),
        ("Ledger", {"fields": ("ledger_table",)}),
        ("Timeline", {"fields": ("timeline_table",)}),
    )
    readonly_fields = flatten_fieldsets(fieldsets)
    inlines = [PayoutNoteInline]
    note_subject = "payout"

    @admin.display(description="payout", ordering="id")
    def short_id(self, payout: Payout) -> str:
        return short_id(payout.pk)

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, payout: Payout) -> str:
        return money(payout.amount, payout.currency)

    @admin.display(description="age", ordering="created_at")
    def age(self, payout: Payout) -> str:
        return timesince(payout.created_at)

    @admin.display(description="transfers")
    def transfers_table(self, payout: Payout) -> str:
        rows = [
            (
                order_link(t.order_id),
                money(t.amount, t.currency),
                t.status,
                t.released_at or "",
            )
            for t in payout.transfers.order_by("created_at")
        ]
        return html_table(["order", "amount", "status", "released"], rows)

    @admin.display(description="ledger entries")
    def ledger_table(self, payout: Payout) -> str:
        rows = [
            (
                e.created_at,
                e.kind,
                money(e.applied_amount, e.currency, signed=True),
                money(e.balance_after, e.currency),
            )
            for e in payout.ledger_entries.order_by("created_at")
        ]
        return html_table(["when", "kind", "amount", "balance after"], rows)

    @admin.display(description="everything that happened, oldest first")
    def timeline_table(self, payout: Payout) -> str:
        return timeline_table(timeline(payout_ids=[payout.pk]), describe_timeline_item)

    def add_internal_note(self, *, obj, author, text: str, request):
        return add_payout_note(payout=obj, author=author, text=text, request=request)

    # --- actions --------------------------------------------------------------------------
    @admin.action(description="Retry failed payouts (a new payout)", permissions=["manage"])
    def retry_failed(self, request, queryset):
        for payout in queryset.filter(status=Payout.Status.FAILED):
            new = retry_payout(payout=payout, actor=request.user, request=request)
            if new is None:
                self.message_user(
                    request,
                    f"Payout {short_id(payout.pk)}: nothing to pay now (paused, in flight or "
                    "no available money).",
                    messages.WARNING,
                )
            else:
                self.message_user(
                    request,
                    f"Payout {short_id(payout.pk)} retried as {short_id(new.pk)}: {new.status}.",
                )

    @admin.action(description="Pause these sellers' payouts", permissions=["manage"])
    def pause_sellers(self, request, queryset):
        _set_paused(self, request, {p.seller for p in queryset.select_related("seller")}, True)

    @admin.action(description="Resume these sellers' payouts", permissions=["manage"])
    def resume_sellers(self, request, queryset):
        _set_paused(self, request, {p.seller for p in queryset.select_related("seller")}, False)

    def get_urls(self):
        return [
            path(
                "run-now/",
                self.admin_site.admin_view(self.run_now_view),
                name="payments_payout_run_now",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_run": self.has_manage_permission(request)}
        return super().changelist_view(request, extra_context)

    def run_now_view(self, request):
        """Queue the payout job to the worker (release first, then pay); audited."""
        if request.method != "POST" or not self.has_manage_permission(request):
            raise PermissionDenied
        record(action="payouts.run_requested", actor=request.user, request=request)
        enqueue_on_commit(RUN_TASK)
        self.message_user(
            request,
            "The payout run was queued to the worker; its result appears in the audit log "
            "(payouts.run) and in this list.",
        )
        return HttpResponseRedirect(reverse("admin:payments_payout_changelist"))


def _set_paused(model_admin, request, sellers, paused: bool) -> None:
    for seller in sellers:
        method = set_payouts_paused(
            seller=seller, paused=paused, actor=request.user, request=request
        )
        if method is None:
            model_admin.message_user(
                request, f"{seller}: no payout method to pause.", messages.WARNING
            )
        else:
            model_admin.message_user(
                request, f"{seller}: payouts {'paused' if paused else 'resumed'}."
            )


@admin.register(PayoutMethod)
class PayoutMethodAdmin(IndexedSearchMixin, ManagePayoutsMixin, ReadOnlyAdmin):
    list_display = (
        "seller",
        "payout_type",
        "status",
        "needs_update_since",
        "payouts_paused",
        "updated_at",
    )
    list_filter = ("status", "payouts_paused", "payout_type")
    search_fields = ("seller__email__istartswith", "seller__username__istartswith")
    search_help_text = "Seller email or username, by its first characters"
    id_prefix_fields = ()
    list_select_related = ("seller",)
    actions = ["pause", "resume"]
    exclude = ("payout_token",)  # a provider token is not for staff eyes

    @admin.action(description="Pause payouts", permissions=["manage"])
    def pause(self, request, queryset):
        _set_paused(self, request, {m.seller for m in queryset.select_related("seller")}, True)

    @admin.action(description="Resume payouts", permissions=["manage"])
    def resume(self, request, queryset):
        _set_paused(self, request, {m.seller for m in queryset.select_related("seller")}, False)
