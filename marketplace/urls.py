from django.urls import path
from rest_framework.routers import SimpleRouter

from marketplace.api import views

# Contract paths have no trailing slash.
router = SimpleRouter(trailing_slash=False, use_regex_path=False)
router.register("marketplace/products", views.ProductViewSet, basename="product")
router.register("marketplace/orders", views.OrderViewSet, basename="order")
router.register("marketplace/refunds", views.RefundViewSet, basename="refund")
router.register("marketplace/disputes", views.DisputeViewSet, basename="dispute")
router.register("marketplace/licenses", views.LicenseViewSet, basename="license")

urlpatterns = [
    *router.urls,
    path(
        "marketplace/download/<uuid:product_id>",
        views.DownloadLinkView.as_view(),
        name="marketplace-download",
    ),
    path("marketplace/files/<str:token>", views.SignedFileView.as_view(), name="marketplace-file"),
]
