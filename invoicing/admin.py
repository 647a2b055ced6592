"""Finance's view of invoices and credit notes (read-only: documents of record) and the
quarterly VAT report page with its CSV export."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from invoicing import report
from invoicing.models import Invoice, InvoiceLine, rate_text
from veza.admin_search import IndexedSearchMixin
from veza.admin_tools import ReadOnlyAdmin, add_site_view, admin_link, html_table
from veza.money import format_money as money


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    fields = ("position", "description", "net", "rate", "vat", "gross")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="net")
    def net(self, line: InvoiceLine) -> str:
        return money(line.net_amount, line.invoice.currency)

    @admin.display(description="VAT rate")
    def rate(self, line: InvoiceLine) -> str:
        return f"{rate_text(line.vat_rate)} %"

    @admin.display(description="VAT")
    def vat(self, line: InvoiceLine) -> str:
        return money(line.vat_amount, line.invoice.currency)

    @admin.display(description="gross")
    def gross(self, line: InvoiceLine) -> str:
        return money(line.gross_amount, line.invoice.currency)


@admin.register(Invoice)
class InvoiceAdmin(IndexedSearchMixin, ReadOnlyAdmin):
    list_display = (
        "number",
        "kind",
        "issued_at",
        "order_link",
        "buyer_name",
        "tax_country",
        "reverse_charge",
        "gross_display",
    )
    list_filter = ("kind", "year", "reverse_charge", "tax_country")
    search_fields = ("number__istartswith",)
    search_help_text = (
        "Invoice or credit note number (VZ-2025-000042, VZ-C-2025-000007), invoice, order, "
        "refund or dispute id — each by its first characters"
    )
    id_prefix_fields = ("id", "order_id", "refund_id", "dispute_id")
    ordering = ("-issued_at", "-number")
    inlines = [InvoiceLineInline]
    fields = (
        "number",
        "kind",
        "issued_at",
        "order_link",
        "corrects_link",
        "refund_id",
        "dispute_id",
        "reason",
        "seller",
        "buyer",
        "net_display",
        "vat_display",
        "gross_display",
        "currency",
        "reverse_charge",
        "tax_country",
    )
    readonly_fields = fields

    @admin.display(description="order")
    def order_link(self, invoice: Invoice) -> str:
        return admin_link("admin:marketplace_order_change", invoice.order_id)

    @admin.display(description="corrects")
    def corrects_link(self, invoice: Invoice) -> str:
        return admin_link("admin:invoicing_invoice_change", invoice.corrects_id, label="invoice")

    @admin.display(description="buyer")
    def buyer_name(self, invoice: Invoice) -> str:
        return f"{invoice.buyer.get('name')} <{invoice.buyer.get('email')}>"

    @admin.display(description="net")
    def net_display(self, invoice: Invoice) -> str:
        return money(invoice.net_total, invoice.currency)

    @admin.display(description="VAT")
    def vat_display(self, invoice: Invoice) -> str:
        return money(invoice.vat_total, invoice.currency)

    @admin.display(description="gross", ordering="gross_total")
    def gross_display(self, invoice: Invoice) -> str:
        return money(invoice.gross_total, invoice.currency)


def documents_table(order) -> str:
    """An order's invoice and credit notes, for its admin page."""
    rows = [
        (
            admin_link("admin:invoicing_invoice_change", doc.pk, label=doc.number),
            doc.get_kind_display(),
            doc.issued_at,
            money(doc.net_total, doc.currency),
            money(doc.vat_total, doc.currency),
            money(doc.gross_total, doc.currency),
        )
        for doc in Invoice.objects.filter(order=order).order_by("issued_at", "number")
    ]
    return html_table(["number", "kind", "issued", "net", "VAT", "gross"], rows)


def vat_report_view(request):
    if not request.user.has_perm("invoicing.view_invoice"):
        raise PermissionDenied
    try:
        quarter = report.Quarter.parse(request.GET.get("quarter"))
    except report.BadQuarter:
        quarter = report.Quarter.of(timezone.now())
    currency = (request.GET.get("currency") or "EUR").upper()[:3]
    vat = report.vat_report(quarter=quarter, currency=currency)
    if request.GET.get("format") == "csv":
        response = HttpResponse(report.report_csv(vat), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="vat-{quarter}-{currency}.csv"'
        return response
    current = report.Quarter.of(timezone.now())
    index = current.year * 4 + current.number - 1
    recent = [report.Quarter(year=k // 4, number=k % 4 + 1) for k in range(index, index - 8, -1)]
    context = {
        **admin.site.each_context(request),
        "title": f"VAT report {quarter} ({currency})",
        "quarter": str(quarter),
        "currency": currency,
        "recent": [str(q) for q in recent],
        "lines": [
            {
                **line.__dict__,
                "net": money(line.net_amount, currency),
                "vat": money(line.vat_amount, currency),
            }
            for line in vat.lines
        ],
        "net_total": money(sum(line.net_amount for line in vat.lines), currency),
        "vat_total": money(sum(line.vat_amount for line in vat.lines), currency),
    }
    return TemplateResponse(request, "admin/invoicing/vat_report.html", context)


add_site_view("invoicing/vat-report/", vat_report_view, name="invoicing-vat-report")
