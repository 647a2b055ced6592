from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from audit.services import record
from invoicing.admin import documents_table
from marketplace.models import License, Order, OrderItem, Product
from marketplace.selectors import refund_window_expired
from payments.admin.common import refund_link
from payments.admin.filters import CurrencyFilter
from payments.admin.notes import describe_timeline_item
from payments.models import Dispute, LedgerEntry, Refund
from payments.refunds.services import request_refund
from payments.timeline import timeline
from veza.admin_search import IndexedSearchMixin
from veza.admin_tools import (
    ReadOnlyAdmin,
    html_table,
    short_id,
    timeline_table,
)
from veza.exceptions import DomainError
from veza.money import format_money as money


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("title", "seller", "product_type", "price_display", "is_active", "created_at")
    list_filter = ("product_type", "is_active", "currency")
    search_fields = ("title", "seller__username", "seller__email")
    list_select_related = ("seller",)
    raw_id_fields = ("seller", "track")
    readonly_fields = ("id", "created_at", "updated_at")

    @admin.display(description="price", ordering="price")
    def price_display(self, product: Product) -> str:
        return money(product.price, product.currency)


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    can_delete = False
    fields = ("product", "seller", "price_display", "refunded")
    readonly_fields = fields

    @admin.display(description="price")
    def price_display(self, item: OrderItem) -> str:
        return money(item.price, item.currency)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class LicenseInline(admin.TabularInline):
    model = License
    extra = 0
    can_delete = False
    fields = ("product", "buyer", "granted_at", "revoked_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class RefundOrderForm(forms.Form):
    items = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Pick the items to refund; none picked refunds every item not yet refunded.",
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=1000)
    override_window_reason = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only for orders past their refund window: why the exception (audited).",
    )


def opened_message(order: Order, submission) -> str:
    """What really happened to a refund staff just opened, with a link to it."""
    refund = submission.refund
    if refund.status == Refund.Status.AWAITING_APPROVAL:
        state = "awaiting approval — a second Finance member must approve it"
    elif submission.accepted:
        state = "pending — waiting for the provider's confirmation"
    else:
        state = f"{refund.get_status_display().lower()} — {submission.message}"
    return format_html(
        "Order {}: {} of {} {}.",
        short_id(order.pk),
        refund_link(refund.pk, f"refund {short_id(refund.pk)}"),
        money(refund.amount, refund.currency),
        state,
    )


def refusal_hint(code: str, may_override: bool) -> str:
    """What staff can do about a refusal to refund after the window (the service refused)."""
    if code == "refund_window_expired" and may_override:
        return (
            " Fill in the override reason to refund anyway (it will need a second Finance "
            "member's approval)."
        )
    if code in ("refund_window_expired", "window_override_forbidden"):
        return " Only Finance may refund after the window."
    return ""


def opened_level(submission) -> int:
    if submission.refund.status == Refund.Status.AWAITING_APPROVAL or not submission.accepted:
        return messages.WARNING
    return messages.SUCCESS


@admin.register(Order)
class OrderAdmin(IndexedSearchMixin, ReadOnlyAdmin):
    list_display = (
        "id",
        "buyer",
        "status",
        "total_display",
        "hyperswitch_payment_id",
        "completed_at",
        "refund_deadline",
        "created_at",
    )
    list_filter = ("status", CurrencyFilter, ("created_at", admin.DateFieldListFilter))
    search_fields = (
        "hyperswitch_payment_id__startswith",
        "buyer__email__istartswith",
        "buyer__username__istartswith",
    )
    search_help_text = (
        "Order id, payment id, buyer email or username — each by its first characters "
        "(the 8 the list shows are enough for an id)"
    )
    list_select_related = ("buyer",)
    inlines = [OrderItemInline, LicenseInline]
    readonly_fields = (
        "id",
        "buyer",
        "status",
        "total_amount",
        "currency",
        "hyperswitch_payment_id",
        "completed_at",
        "refund_deadline",
        "created_at",
        "updated_at",
    )
    actions = ["refund_orders"]
    change_form_template = "admin/marketplace/order/change_form.html"

    def get_readonly_fields(self, request, obj=None):
        fields = [f for f in self.readonly_fields if f not in ("total_amount", "currency")]
        fields.insert(3, "total_display")
        return [
            *fields,
            "related_links",
            "invoices_table",
            "refunds_table",
            "ledger_table",
            "order_timeline",
        ]

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj)

    @admin.display(description="total", ordering="total_amount")
    def total_display(self, order: Order) -> str:
        return money(order.total_amount, order.currency)

    # --- the order's neighbours -------------------------------------------------------------
    @admin.display(description="follow the order")
    def related_links(self, order: Order) -> str:
        query = f"?order__id__exact={order.pk}"
        links = [
            ("refunds", reverse("admin:payments_refund_changelist") + query),
            ("disputes", reverse("admin:payments_dispute_changelist") + query),
            ("licences", reverse("admin:marketplace_license_changelist") + query),
            ("invoices", reverse("admin:invoicing_invoice_changelist") + query),
            ("ledger entries", reverse("admin:payments_ledgerentry_changelist") + query),
        ]
        return format_html_join(
            " · ", '<a href="{}">{}</a>', ((url, label) for label, url in links)
        )

    @admin.display(description="invoices and credit notes")
    def invoices_table(self, order: Order) -> str:
        return documents_table(order)

    @admin.display(description="refunds")
    def refunds_table(self, order: Order) -> str:
        rows = [
            (
                refund_link(refund.pk),
                refund.get_status_display(),
                money(refund.amount, refund.currency),
                refund.requested_by or "—",
                refund.created_at,
            )
            for refund in Refund.objects.filter(order=order).select_related("requested_by")
        ]
        return html_table(["refund", "status", "amount", "requested by", "opened"], rows)

    @admin.display(description="ledger entries")
    def ledger_table(self, order: Order) -> str:
        entries = LedgerEntry.objects.filter(order=order).select_related("seller")
        return html_table(
            ["when", "seller", "kind", "applied", "balance after"],
            [
                (
                    e.created_at,
                    e.seller.username,
                    e.get_kind_display(),
                    money(e.applied_amount, e.currency, signed=True),
                    money(e.balance_after, e.currency),
                )
                for e in entries.order_by("created_at")
            ],
        )

    @admin.display(description="timeline")
    def order_timeline(self, order: Order) -> str:
        refund_ids = list(Refund.objects.filter(order=order).values_list("pk", flat=True))
        dispute_ids = list(Dispute.objects.filter(order=order).values_list("pk", flat=True))
        items = timeline(refund_ids=refund_ids, order_id=order.pk, dispute_ids=dispute_ids)
        return timeline_table(items, describe_timeline_item)

    # --- refunds ------------------------------------------------------------------------------
    def has_open_refund_permission(self, request) -> bool:
        return request.user.has_perm("payments.open_refund")

    def get_urls(self):
        refund = path(
            "<path:object_id>/refund/",
            self.admin_site.admin_view(self.refund_view),
            name="marketplace_order_refund",
        )
        return [refund, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {"may_refund": self.has_open_refund_permission(request), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def _refund_form(self, request, orders: list[Order]) -> RefundOrderForm:
        now = timezone.now()
        for order in orders:
            order.window_expired = refund_window_expired(order=order, now=now)
        form = RefundOrderForm(request.POST if request.POST.get("confirm") == "yes" else None)
        if not request.user.has_perm("payments.override_refund_window"):
            del form.fields["override_window_reason"]  # shown only to those who may use it
        form.fields["items"].choices = [
            (
                str(item.pk),
                f"{short_id(order.pk)} — {item.product.title} — {money(item.price, item.currency)}",
            )
            for order in orders
            for item in order.items.select_related("product")
            if not item.refunded
        ]
        return form

    def _refund_page(self, request, orders, form, *, action: str = ""):
        return TemplateResponse(
            request,
            "admin/marketplace/order/refund_confirmation.html",
            {
                **self.admin_site.each_context(request),
                "title": "Refund orders" if action else f"Refund order {short_id(orders[0].pk)}",
                "orders": orders,
                "form": form,
                "opts": self.model._meta,
                "action": action,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                "may_override": request.user.has_perm("payments.override_refund_window"),
                "any_expired": any(order.window_expired for order in orders),
                "threshold": money(settings.REFUND_APPROVAL_THRESHOLD, orders[0].currency),
            },
        )

    def refund_view(self, request, object_id):
        """The order page's "Refund…" button: pick items, give a reason, confirm."""
        if not self.has_open_refund_permission(request):
            raise PermissionDenied("Opening a refund needs the payments.open_refund permission.")
        order = self.get_object(request, object_id)
        if order is None:
            raise Http404("No such order.")
        form = self._refund_form(request, [order])
        if request.method != "POST" or not form.is_bound or not form.is_valid():
            return self._refund_page(request, [order], form)
        self._open_refunds(request, [order], form)
        return HttpResponseRedirect(reverse("admin:marketplace_order_change", args=[order.pk]))

    @admin.action(description="Refund this order", permissions=["open_refund"])
    def refund_orders(self, request, queryset):
        """Open a refund through the same flow as the API, staff as the requester."""
        orders = list(queryset.select_related("buyer"))
        form = self._refund_form(request, orders)
        if not form.is_bound or not form.is_valid():
            return self._refund_page(request, orders, form, action="refund_orders")
        self._open_refunds(request, orders, form)
        return None

    def _open_refunds(self, request, orders: list[Order], form: RefundOrderForm) -> None:
        reason = form.cleaned_data["reason"]
        picked = set(form.cleaned_data["items"])
        # The form shows the override only to those who may use it; whatever was posted goes to
        # the service, which decides who may refund after the window.
        posted = request.POST.get("override_window_reason", "")
        override = form.cleaned_data.get("override_window_reason", posted).strip()
        for order in orders:
            try:
                chosen = [str(i.pk) for i in order.items.all() if str(i.pk) in picked]
                submission = request_refund(
                    order_id=order.pk,
                    requested_by=request.user,
                    reason=reason,
                    item_ids=chosen or None,
                    override_window_reason=override,
                    as_staff=True,
                    request=request,
                )
            except DomainError as exc:
                record(
                    action="admin.refused",
                    actor=request.user,
                    target=order,
                    request=request,
                    details={"attempt": "refund", "code": exc.code, "reason": str(exc.detail)},
                )
                hint = refusal_hint(exc.code, "override_window_reason" in form.fields)
                self.message_user(
                    request, f"Order {short_id(order.pk)}: {exc.detail}{hint}", messages.ERROR
                )
                continue
            self.message_user(request, opened_message(order, submission), opened_level(submission))


@admin.register(License)
class LicenseAdmin(ReadOnlyAdmin):
    list_display = ("product", "buyer", "order", "granted_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("buyer__username", "product__title")
    list_select_related = ("product", "buyer", "order")
