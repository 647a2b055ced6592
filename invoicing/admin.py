"""Finance's view of invoices and credit notes (read-only: documents of record) and the
quarterly VAT report page with its CSV export."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from audit.admin_export import CsvExportMixin, iso, major, text
from invoicing import report
from invoicing.models import Invoice, InvoiceLine, rate_text
from veza.admin_search import IndexedSearchMixin
from veza.admin_tools import (
    IndexedValuesFilter,
    ReadOnlyAdmin,
    add_site_view,
    admin_link,
    html_table,
)
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
class InvoiceAdmin(CsvExportMixin, IndexedSearchMixin, ReadOnlyAdmin):
    """Finance's documents of record. The CSV export is the list as filtered: a period is
    the issue-date filter (this month, this year…) or any range in the address
    (``?issued_at__gte=2025-01-01&issued_at__lt=2025-04-01``), with the kind, series year,
    reverse charge and tax country filters."""

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
    list_filter = (
        ("issued_at", admin.DateFieldListFilter),
        "kind",
        ("year", IndexedValuesFilter),
        "reverse_charge",
        ("tax_country", IndexedValuesFilter),
    )
    search_fields = ("number__istartswith",)
    search_help_text = (
        "Invoice or credit note number (VZ-2025-000042, VZ-C-2025-000007), invoice, order, "
        "refund or dispute id — each by its first characters"
    )
    id_prefix_fields = ("id", "order_id", "refund_id", "dispute_id")
    ordering = ("-issued_at", "-number")
    export_columns = (
        text("number"),
        text("kind"),
        iso("issued_at"),
        text("order_id"),
        text("corrects", "corrects__number"),
        text("refund_id"),
        text("dispute_id"),
        text("buyer_name", "buyer__name"),
        text("buyer_email", "buyer__email"),
        text("buyer_country", "buyer__country"),
        text("buyer_vat_number", "buyer__vat_number"),
        text("tax_country"),
        text("reverse_charge"),
        text("currency"),
        major("net", "net_total"),
        major("vat", "vat_total"),
        major("gross", "gross_total"),
        text("gross_minor", "gross_total"),
    )
    export_totals = (("net_total", "net"), ("vat_total", "vat"), ("gross_total", "gross"))
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
