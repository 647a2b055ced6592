"""List filters of the payments consoles, whose choices never cost a scan of their tables."""

from django.contrib import admin

from marketplace.models import Product
from payments.models import SellerBalance
from payments.payouts.selectors import stuck_payouts
from payments.refunds.selectors import stuck_refunds


class CurrencyFilter(admin.SimpleListFilter):
    """The currencies products are sold in and sellers hold money in: two small tables stand
    for the million rows of orders and ledger entries (Django's own filter would read them
    all with ``SELECT DISTINCT``)."""

    title = "currency"
    parameter_name = "currency"

    def lookups(self, request, model_admin):
        currencies = set()
        for model in (SellerBalance, Product):
            currencies |= set(
                model.objects.order_by().values_list("currency", flat=True).distinct()
            )
        return [(code, code) for code in sorted(currencies)]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(currency=self.value())
        return queryset


class StuckFilter(admin.SimpleListFilter):
    """Rows still pending past their reconcile delay, by the workflow's own rule
    (``stuck_refunds``, ``stuck_payouts``): reconciliation asks about them, Finance sees them."""

    title = "stuck"
    parameter_name = "stuck"
    stuck = staticmethod(stuck_refunds)

    def lookups(self, request, model_admin):
        return [("yes", "Stuck (pending too long)")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset & self.stuck()
        return queryset


class StuckPayoutFilter(StuckFilter):
    """``requires_payout_method_data`` payouts wait here for the seller's new method, with the
    provider's own status beside them."""

    stuck = staticmethod(stuck_payouts)
