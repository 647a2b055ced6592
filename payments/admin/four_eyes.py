"""Four eyes on refunds: a second Finance member approves or rejects a refund that waits for
it, from the list (actions) or from the refund's page (its own URLs)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from payments.admin.common import refund_link
from payments.models import (
    Refund,
)
from payments.refunds.approvals import approve_refund, reject_refund
from veza.admin_tools import short_id
from veza.exceptions import DomainError
from veza.money import format_money as money


class RejectRefundForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
        help_text="Why the refund is not granted (audited, shown on the refund).",
    )


class FourEyesDecisionsMixin:
    """Approve and reject, each confirmed on a page that shows what it will do."""

    def has_approve_permission(self, request) -> bool:
        return request.user.has_perm("payments.approve_refund")

    def _refund_link(self, refund: Refund) -> str:
        return refund_link(refund.pk, f"refund {short_id(refund.pk)}")

    @admin.action(description="Approve… (four eyes: not your own)", permissions=["approve"])
    def approve_refunds(self, request, queryset):
        """A second Finance member lets waiting refunds go on to the provider, once confirmed."""
        refunds = list(queryset.select_related("order", "requested_by").order_by("created_at"))
        if request.POST.get("confirm") != "yes":
            return self._decision_page(request, refunds, "approve", action="approve_refunds")
        for refund in refunds:
            self._approve_one(request, refund)
        return None

    @admin.action(description="Reject… (four eyes: not your own)", permissions=["approve"])
    def reject_refunds(self, request, queryset):
        """A second Finance member refuses waiting refunds; their orders are restored."""
        refunds = list(queryset.select_related("order", "requested_by").order_by("created_at"))
        form = RejectRefundForm(request.POST if request.POST.get("confirm") == "yes" else None)
        if not form.is_bound or not form.is_valid():
            return self._decision_page(
                request, refunds, "reject", action="reject_refunds", form=form
            )
        for refund in refunds:
            self._reject_one(request, refund, form.cleaned_data["reason"])
        return None

    def _decision_page(self, request, refunds, decision: str, *, action: str = "", form=None):
        """What approving or rejecting will do, with the money as staff read it."""
        own = [r for r in refunds if r.requested_by_id == request.user.pk]
        waiting = [r for r in refunds if r.status == Refund.Status.AWAITING_APPROVAL]
        totals: dict[str, int] = {}
        for refund in waiting:
            totals[refund.currency] = totals.get(refund.currency, 0) + refund.amount
        return TemplateResponse(
            request,
            "admin/payments/refund/decision_confirmation.html",
            {
                **self.admin_site.each_context(request),
                "title": f"{decision.capitalize()} refunds awaiting approval",
                "decision": decision,
                "refunds": refunds,
                "own": own,
                "not_waiting": [r for r in refunds if r not in waiting],
                "totals": [money(amount, currency) for currency, amount in totals.items()],
                "form": form,
                "opts": self.model._meta,
                "action": action,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    def _approve_one(self, request, refund: Refund) -> None:
        link = self._refund_link(refund)
        try:
            submission = approve_refund(
                refund_id=refund.pk, approved_by=request.user, request=request
            )
        except DomainError as exc:
            self.message_user(request, format_html("{}: {}", link, exc.detail), messages.ERROR)
            return
        status = submission.refund.get_status_display().lower()
        self.message_user(
            request,
            format_html(
                "{}: approved ({}), now {} — {}",
                link,
                money(submission.refund.amount, submission.refund.currency),
                status,
                submission.message,
            ),
            messages.SUCCESS if submission.accepted else messages.WARNING,
        )

    def _reject_one(self, request, refund: Refund, reason: str) -> None:
        link = self._refund_link(refund)
        try:
            reject_refund(
                refund_id=refund.pk, rejected_by=request.user, reason=reason, request=request
            )
        except DomainError as exc:
            self.message_user(request, format_html("{}: {}", link, exc.detail), messages.ERROR)
            return
        self.message_user(
            request,
            format_html(
                "{}: rejected ({} not refunded); the order is back to where it was.",
                link,
                money(refund.amount, refund.currency),
            ),
            messages.SUCCESS,
        )

    def get_urls(self):
        def decision(name: str, view):
            return path(
                f"<path:object_id>/{name}/",
                self.admin_site.admin_view(view),
                name=f"payments_refund_{name}",
            )

        return [
            decision("approve", self.approve_view),
            decision("reject", self.reject_view),
            *super().get_urls(),
        ]

    def _decision_target(self, request, object_id) -> Refund:
        if not self.has_approve_permission(request):
            # The admin's audit middleware records the refusal (admin.refused).
            raise PermissionDenied("Deciding a refund needs the approve_refund permission.")
        refund = self.get_object(request, object_id)
        if refund is None:
            raise Http404("No such refund.")
        return refund

    def approve_view(self, request, object_id):
        """The refund page's "Approve…": GET shows what will happen, POST approves."""
        refund = self._decision_target(request, object_id)
        if request.method != "POST":
            return self._decision_page(request, [refund], "approve")
        self._approve_one(request, refund)
        return HttpResponseRedirect(reverse("admin:payments_refund_change", args=[refund.pk]))

    def reject_view(self, request, object_id):
        """The refund page's "Reject…": GET shows what will happen, POST (a reason) rejects."""
        refund = self._decision_target(request, object_id)
        form = RejectRefundForm(request.POST if request.method == "POST" else None)
        if request.method != "POST" or not form.is_valid():
            return self._decision_page(request, [refund], "reject", form=form)
        self._reject_one(request, refund, form.cleaned_data["reason"])
        return HttpResponseRedirect(reverse("admin:payments_refund_change", args=[refund.pk]))
