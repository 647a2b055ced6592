"""Read-only views of the money: a seller's balance, the ledger and the transfers."""

from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.db.models import Sum
from django.urls import reverse
from django.utils.html import format_html_join

from audit.admin_export import CsvExportMixin, iso, major, text
from payments.admin.common import order_link, refund_link
from payments.admin.filters import CurrencyFilter
from payments.admin.notes import (
    describe_timeline_item,
)
from payments.models import (
    LedgerEntry,
    Payout,
    SellerBalance,
    SellerTransfer,
)
from payments.timeline import timeline
from veza.admin_search import IndexedSearchMixin
from veza.admin_tools import ReadOnlyAdmin, html_table, timeline_table
from veza.money import format_money as money

TIMELINE_PAYOUTS = 50  # a seller's page: the history of its latest payouts


@admin.register(SellerBalance)
class SellerBalanceAdmin(IndexedSearchMixin, ReadOnlyAdmin):
    """A seller's page: its four amounts, and links to every entry, transfer and payout."""

    list_display = (
        "seller",
        "currency",
        "pending_display",
        "available_display",
        "held_display",
        "debt_display",
        "total_display",
        "updated_at",
    )
    list_filter = ("currency",)
    search_fields = ("seller__email__istartswith", "seller__username__istartswith")
    search_help_text = "Seller email or username, by its first characters"
    id_prefix_fields = ("seller_id",)
    list_select_related = ("seller",)
    fieldsets = (
        (
            "Balance",
            {
                "fields": (
                    "seller",
                    "currency",
                    "pending_display",
                    "available_display",
                    "held_display",
                    "debt_display",
                    "total_display",
                    "ledger_check",
                )
            },
        ),
        ("Follow the money", {"fields": ("links", "recent_entries")}),
        ("Timeline", {"fields": ("timeline_table",)}),
    )
    readonly_fields = flatten_fieldsets(fieldsets)

    @admin.display(description="everything that happened, oldest first (the latest of each kind)")
    def timeline_table(self, balance: SellerBalance) -> str:
        payout_ids = list(
            Payout.objects.filter(seller_id=balance.seller_id, currency=balance.currency)
            .order_by("-created_at")
            .values_list("pk", flat=True)[:TIMELINE_PAYOUTS]
        )
        items = timeline(
            seller_id=balance.seller_id,
            currency=balance.currency,
            payout_ids=payout_ids,
            limit=TIMELINE_PAYOUTS * 2,
        )
        return timeline_table(items, describe_timeline_item)

    @admin.display(description="pending", ordering="pending")
    def pending_display(self, balance: SellerBalance) -> str:
        return money(balance.pending, balance.currency)

    @admin.display(description="available", ordering="available")
    def available_display(self, balance: SellerBalance) -> str:
        return money(balance.available, balance.currency)

    @admin.display(description="held", ordering="held")
    def held_display(self, balance: SellerBalance) -> str:
        return money(balance.held, balance.currency)

    @admin.display(description="debt", ordering="debt")
    def debt_display(self, balance: SellerBalance) -> str:
        return (
            money(-balance.debt, balance.currency) if balance.debt else money(0, balance.currency)
        )

    @admin.display(description="total owed to the seller")
    def total_display(self, balance: SellerBalance) -> str:
        return money(balance.total, balance.currency)

    @admin.display(description="ledger check")
    def ledger_check(self, balance: SellerBalance) -> str:
        sums = LedgerEntry.objects.filter(
            seller_id=balance.seller_id, currency=balance.currency
        ).aggregate(
            pending=Sum("pending_delta"),
            available=Sum("available_delta"),
            held=Sum("held_delta"),
            debt=Sum("debt_delta"),
        )
        ok = all(getattr(balance, k) == (v or 0) for k, v in sums.items())
        return "equals the sum of its entries" if ok else "DIFFERS from its entries"

    @admin.display(description="links")
    def links(self, balance: SellerBalance) -> str:
        query = f"seller__id__exact={balance.seller_id}"
        targets = [
            (
                "ledger entries",
                "admin:payments_ledgerentry_changelist",
                f"&currency={balance.currency}",
            ),
            ("transfers", "admin:payments_sellertransfer_changelist", ""),
            ("payouts", "admin:payments_payout_changelist", ""),
        ]
        return format_html_join(
            " · ",
            '<a href="{}?{}{}">{}</a>',
            ((reverse(name), query, extra, label) for label, name, extra in targets),
        )

    @admin.display(description="latest entries")
    def recent_entries(self, balance: SellerBalance) -> str:
        entries = LedgerEntry.objects.filter(
            seller_id=balance.seller_id, currency=balance.currency
        ).order_by("-created_at")[:20]
        return html_table(
            ["when", "kind", "effect", "pending", "available", "held", "debt", "total after"],
            [
                (
                    e.created_at,
                    e.get_kind_display(),
                    money(e.applied_amount, e.currency, signed=True),
                    money(e.pending_delta, e.currency, signed=True),
                    money(e.available_delta, e.currency, signed=True),
                    money(e.held_delta, e.currency, signed=True),
                    money(e.debt_delta, e.currency, signed=True),
                    money(e.balance_after, e.currency),
                )
                for e in entries
            ],
        )


@admin.register(LedgerEntry)
class LedgerEntryAdmin(CsvExportMixin, IndexedSearchMixin, ReadOnlyAdmin):
    list_display = (
        "created_at",
        "seller",
        "kind",
        "requested",
        "applied",
        "balance",
        "order_link",
        "refund_link",
    )
    list_filter = ("kind", CurrencyFilter, ("created_at", admin.DateFieldListFilter))
    search_fields = (
        "seller__email__istartswith",
        "seller__username__istartswith",
        "order__hyperswitch_payment_id__startswith",
        "refund__provider_refund_id__startswith",
    )
    search_help_text = (
        "Entry, order or refund id, seller email or username, payment id, provider refund id "
        "— each by its first characters"
    )
    id_prefix_fields = ("id", "order_id", "refund_id")
    list_select_related = ("seller",)
    export_columns = (
        iso("created_at"),
        text("entry_id", "pk"),
        text("seller", "seller__email"),
        text("kind"),
        text("currency"),
        major("requested", "requested_amount"),
        major("applied", "applied_amount"),
        text("applied_minor", "applied_amount"),
        major("balance_after", "balance_after"),
        text("order_id"),
        text("refund_id"),
    )
    export_totals = (("applied_amount", "applied"),)

    @admin.display(description="requested", ordering="requested_amount")
    def requested(self, entry: LedgerEntry) -> str:
        return money(entry.requested_amount, entry.currency, signed=True)

    @admin.display(description="applied", ordering="applied_amount")
    def applied(self, entry: LedgerEntry) -> str:
        return money(entry.applied_amount, entry.currency, signed=True)

    @admin.display(description="balance after", ordering="balance_after")
    def balance(self, entry: LedgerEntry) -> str:
        return money(entry.balance_after, entry.currency)

    @admin.display(description="order", ordering="order")
    def order_link(self, entry: LedgerEntry) -> str:
        return order_link(entry.order_id)

    @admin.display(description="refund", ordering="refund")
    def refund_link(self, entry: LedgerEntry) -> str:
        return refund_link(entry.refund_id)


@admin.register(SellerTransfer)
class SellerTransferAdmin(IndexedSearchMixin, ReadOnlyAdmin):
    list_display = ("created_at", "seller", "amount_display", "status", "order")
    list_filter = ("status", CurrencyFilter)
    search_fields = (
        "seller__email__istartswith",
        "seller__username__istartswith",
        "order__hyperswitch_payment_id__startswith",
    )
    search_help_text = (
        "Transfer, order or payout id, seller email or username, payment id — each by its "
        "first characters"
    )
    id_prefix_fields = ("id", "order_id", "payout_id")
    list_select_related = ("seller", "order")

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, transfer: SellerTransfer) -> str:
        return money(transfer.amount, transfer.currency)
