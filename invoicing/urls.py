from django.urls import path
from rest_framework.routers import SimpleRouter

from invoicing.api import views

# Contract paths have no trailing slash.
router = SimpleRouter(trailing_slash=False, use_regex_path=False)
router.register("invoices", views.InvoiceViewSet, basename="invoice")

urlpatterns = [
    *router.urls,
    path("admin/vat/report", views.VatReportView.as_view(), name="vat-report"),
]
