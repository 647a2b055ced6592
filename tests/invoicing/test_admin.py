"""Finance's back-office: invoices read-only, the order's documents, the VAT report page."""

import pytest
from django.utils import timezone

from invoicing.models import Invoice
from invoicing.report import Quarter
from tests.backoffice.test_admin_console import staff_client
from tests.invoicing.factories import pay, vat_order

pytestmark = pytest.mark.django_db


def test_finance_reads_invoices_and_the_vat_report_support_does_not(post_webhook):
    order = vat_order(rate="19", country="DE")
    pay(post_webhook, order)
    invoice = Invoice.objects.get()
    quarter = str(Quarter.of(timezone.now()))
    finance, _ = staff_client("Finance")

    listing = finance.get("/admin/invoicing/invoice/", {"q": invoice.number})
    assert listing.status_code == 200 and invoice.number in listing.content.decode()
    assert finance.get("/admin/invoicing/invoice/", {"kind": "credit_note"}).status_code == 200
    page = finance.get(f"/admin/invoicing/invoice/{invoice.pk}/change/")
    assert page.status_code == 200 and "Save" not in page.content.decode()
    order_page = finance.get(f"/admin/marketplace/order/{order.pk}/change/").content.decode()
    assert invoice.number in order_page
    report = finance.get("/admin/invoicing/vat-report/", {"quarter": quarter})
    assert report.status_code == 200
    assert "oss" in report.content.decode() and "19.0 %" in report.content.decode()
    csv = finance.get("/admin/invoicing/vat-report/", {"quarter": quarter, "format": "csv"})
    assert csv["Content-Type"].startswith("text/csv")
    assert f"{quarter},EUR,DE,oss,19.0,1000,190,1" in csv.content.decode()

    support, _ = staff_client("Support")
    assert support.get("/admin/invoicing/invoice/").status_code == 403
    assert support.get("/admin/invoicing/vat-report/").status_code == 403
