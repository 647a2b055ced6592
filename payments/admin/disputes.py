"""The dispute console: open disputes first, their money, licences, evidence, notes and
timeline; staff with ``manage_dispute`` re-submit the evidence or accept the dispute."""

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Case, F, IntegerField, Value, When
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from payments.admin.common import (
    dispute_colour,
    licences_table,
    order_link,
    order_summary,
    status_badge,
)
from payments.admin.notes import InternalNotesMixin, NoteInline, describe_timeline_item
from payments.disputes.evidence import MANAGE_PERMISSION, accept_dispute, resubmit_evidence
from payments.models import Dispute, DisputeNote, LedgerEntry
from payments.notes import add_dispute_note
from payments.timeline import timeline
from veza.admin_search import IndexedSearchMixin
from veza.admin_tools import (
    IndexedValuesFilter,
    ReadOnlyAdmin,
    html_table,
    short_id,
    timeline_table,
    when,
)
from veza.exceptions import DomainError
from veza.money import format_money as money


class DisputeOpenFirst(admin.SimpleListFilter):
    title = "open"
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", "Open"), ("no", "Closed")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(status__in=Dispute.TERMINAL)
        if self.value() == "no":
            return queryset.filter(status__in=Dispute.TERMINAL)
        return queryset


class DisputeNoteInline(NoteInline):
    model = DisputeNote


@admin.register(Dispute)
class DisputeAdmin(InternalNotesMixin, IndexedSearchMixin, ReadOnlyAdmin):
    """The dispute console: open disputes first, by evidence due date (overdue highlighted)."""

    list_display = (
        "short_id",
        "order_link",
        "amount_display",
        "status_badge",
        "stage",
        "evidence_due",
        "opened_at",
        "closed_at",
    )
    # Filters whose choices never read the table (a million disputes and more).
    list_filter = (DisputeOpenFirst, "status", ("stage", IndexedValuesFilter))
    search_fields = (
        "provider_dispute_id__startswith",
        "order__hyperswitch_payment_id__startswith",
        "order__buyer__email__istartswith",
    )
    search_help_text = (
        "Dispute or order id, provider dispute id, payment id or buyer email — each by its "
        "first characters"
    )
    id_prefix_fields = ("id", "order_id")
    list_select_related = ("order",)
    fieldsets = (
        (
            "Dispute",
            {
                "fields": (
                    "id",
                    "provider_dispute_id",
                    "status_badge",
                    "stage",
                    "reason",
                    "amount_display",
                    "evidence_due",
                    "opened_at",
                    "closed_at",
                )
            },
        ),
        ("Evidence", {"fields": ("evidence_table",)}),
        ("Order and payment", {"fields": ("order_summary", "sellers_table", "licences_table")}),
        ("Money", {"fields": ("ledger_table",)}),
        ("Timeline", {"fields": ("timeline_table",)}),
    )
    readonly_fields = flatten_fieldsets(fieldsets)
    inlines = [DisputeNoteInline]
    note_subject = "dispute"
    change_form_template = "admin/payments/dispute/change_form.html"

    def get_ordering(self, request):
        # Open disputes first, the most urgent evidence deadline on top; closed ones after.
        closed = Case(
            When(status__in=list(Dispute.TERMINAL), then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
        return [closed.asc(), F("evidence_due_at").asc(nulls_last=True), "-opened_at"]

    @admin.display(description="dispute", ordering="id")
    def short_id(self, dispute: Dispute) -> str:
        return short_id(dispute.pk)

    @admin.display(description="order", ordering="order")
    def order_link(self, dispute: Dispute) -> str:
        return order_link(dispute.order_id)

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, dispute: Dispute) -> str:
        return money(dispute.amount, dispute.currency)

    @admin.display(description="status", ordering="status")
    def status_badge(self, dispute: Dispute) -> str:
        return status_badge(dispute.get_status_display(), dispute_colour(dispute))

    @admin.display(description="evidence due", ordering="evidence_due_at")
    def evidence_due(self, dispute: Dispute) -> str:
        if dispute.evidence_due_at is None:
            return "—"
        overdue = not dispute.is_terminal and dispute.evidence_due_at < timezone.now()
        if overdue:
            return format_html(
                '<strong class="vz-overdue" style="color:#c62828">overdue: {}</strong>',
                when(dispute.evidence_due_at),
            )
        return when(dispute.evidence_due_at)

    @admin.display(description="order")
    def order_summary(self, dispute: Dispute) -> str:
        order = dispute.order
        return order_summary(order, [("payment", order.hyperswitch_payment_id or "—")])

    @admin.display(description="sellers")
    def sellers_table(self, dispute: Dispute) -> str:
        shares = dispute.shares.select_related("seller")
        return html_table(
            ["seller", "share", "from pending", "from available", "as debt"],
            [
                (
                    s.seller.username,
                    money(s.amount, dispute.currency),
                    money(s.from_pending, dispute.currency),
                    money(s.from_available, dispute.currency),
                    money(s.as_debt, dispute.currency),
                )
                for s in shares
            ],
        )

    @admin.display(description="licences")
    def licences_table(self, dispute: Dispute) -> str:
        return licences_table(dispute.order_id)

    @admin.display(description="ledger entries of the dispute")
    def ledger_table(self, dispute: Dispute) -> str:
        entries = LedgerEntry.objects.filter(dispute=dispute).select_related("seller")
        return html_table(
            ["when", "seller", "kind", "effect", "pending", "available", "held", "debt"],
            [
                (
                    e.created_at,
                    e.seller.username,
                    e.get_kind_display(),
                    money(e.applied_amount, e.currency, signed=True),
                    money(e.pending_delta, e.currency, signed=True),
                    money(e.available_delta, e.currency, signed=True),
                    money(e.held_delta, e.currency, signed=True),
                    money(e.debt_delta, e.currency, signed=True),
                )
                for e in entries.order_by("created_at")
            ],
        )

    @admin.display(description="everything that happened, oldest first")
    def timeline_table(self, dispute: Dispute) -> str:
        return timeline_table(timeline(dispute_ids=[dispute.pk]), describe_timeline_item)

    def add_internal_note(self, *, obj, author, text: str, request):
        return add_dispute_note(dispute=obj, author=author, text=text, request=request)

    @admin.display(description="evidence sent to the provider")
    def evidence_table(self, dispute: Dispute) -> str:
        try:
            evidence = dispute.evidence
        except ObjectDoesNotExist:
            evidence = None
        accepted = (
            f"accepted by {dispute.accepted_by or 'staff'} at {when(dispute.accepted_at)}"
            if dispute.accepted_at
            else "—"
        )
        if evidence is None:
            return html_table(
                ["status", "staff decision"], [("none (not at the dispute stage)", accepted)]
            )
        return html_table(
            [
                "status",
                "receipt",
                "service documentation",
                "attempts",
                "submitted",
                "error",
                "staff decision",
            ],
            [
                (
                    evidence.get_status_display(),
                    evidence.receipt_file_id or "—",
                    evidence.service_documentation_file_id or "—",
                    evidence.attempts,
                    when(evidence.submitted_at) if evidence.submitted_at else "—",
                    evidence.error or "—",
                    accepted,
                )
            ],
        )

    # --- staff decisions: re-submit the evidence, accept the dispute -----------------------
    def has_manage_permission(self, request) -> bool:
        return request.user.has_perm(MANAGE_PERMISSION)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {"may_manage": self.has_manage_permission(request), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def get_urls(self):
        def decision(name: str, view):
            return path(
                f"<path:object_id>/{name.replace('_', '-')}/",
                self.admin_site.admin_view(view),
                name=f"payments_dispute_{name}",
            )

        return [
            decision("resubmit_evidence", self.resubmit_evidence_view),
            decision("accept", self.accept_view),
            *super().get_urls(),
        ]

    def _decision_target(self, request, object_id) -> Dispute:
        if not self.has_manage_permission(request):
            # The admin's audit middleware records the refusal (admin.refused).
            raise PermissionDenied("This needs the manage_dispute permission.")
        dispute = self.get_object(request, object_id)
        if dispute is None:
            raise Http404("No such dispute.")
        return dispute

    def _decision_page(self, request, dispute: Dispute, decision: str, label: str):
        try:
            evidence = dispute.evidence
        except ObjectDoesNotExist:
            evidence = None
        return TemplateResponse(
            request,
            "admin/payments/dispute/decision_confirmation.html",
            {
                **self.admin_site.each_context(request),
                "title": label.capitalize(),
                "decision": decision,
                "decision_label": label,
                "dispute": dispute,
                "evidence": evidence,
                "opts": self.model._meta,
            },
        )

    def _back(self, dispute: Dispute):
        return HttpResponseRedirect(reverse("admin:payments_dispute_change", args=[dispute.pk]))

    def resubmit_evidence_view(self, request, object_id):
        """The dispute page's "Re-submit evidence…": GET explains, POST queues the task."""
        dispute = self._decision_target(request, object_id)
        if request.method != "POST":
            return self._decision_page(request, dispute, "resubmit", "re-submit the evidence")
        try:
            resubmit_evidence(dispute_id=dispute.pk, requested_by=request.user, request=request)
        except DomainError as exc:
            self.message_user(request, exc.detail, messages.ERROR)
        else:
            self.message_user(
                request,
                "The evidence is being built again and will be submitted within minutes.",
                messages.SUCCESS,
            )
        return self._back(dispute)

    def accept_view(self, request, object_id):
        """The dispute page's "Accept dispute…": GET explains, POST tells the provider."""
        dispute = self._decision_target(request, object_id)
        if request.method != "POST":
            return self._decision_page(request, dispute, "accept", "accept the dispute")
        try:
            accept_dispute(dispute_id=dispute.pk, accepted_by=request.user, request=request)
        except DomainError as exc:
            self.message_user(request, exc.detail, messages.ERROR)
        else:
            self.message_user(
                request,
                "Dispute accepted at the provider; no evidence will be sent. The provider's "
                "dispute_accepted event will close it.",
                messages.SUCCESS,
            )
        return self._back(dispute)
