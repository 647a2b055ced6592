from django.urls import path

from marketplace.api import views

urlpatterns = [
    path("marketplace/products", views.ProductListView.as_view(), name="product-list"),
    path(
        "marketplace/products/<uuid:pk>", views.ProductDetailView.as_view(), name="product-detail"
    ),
    path("marketplace/orders", views.OrderListView.as_view(), name="order-list"),
    path("marketplace/orders/<uuid:pk>", views.OrderDetailView.as_view(), name="order-detail"),
    path(
        "marketplace/orders/<uuid:pk>/refund", views.OrderRefundView.as_view(), name="order-refund"
    ),
    path("marketplace/refunds/<uuid:pk>", views.RefundDetailView.as_view(), name="refund-detail"),
    path("marketplace/licenses", views.LicenseListView.as_view(), name="license-list"),
    path(
        "marketplace/download/<uuid:product_id>",
        views.DownloadLinkView.as_view(),
        name="marketplace-download",
    ),
    path("marketplace/files/<str:token>", views.SignedFileView.as_view(), name="marketplace-file"),
]
