from django.urls import path

from payments.api import views

urlpatterns = [
    path(
        "webhooks/hyperswitch", views.HyperswitchWebhookView.as_view(), name="webhook-hyperswitch"
    ),
    path("marketplace/seller/balance", views.SellerBalanceView.as_view(), name="seller-balance"),
    path(
        "marketplace/seller/transfers",
        views.SellerTransferListView.as_view(),
        name="seller-transfers",
    ),
]
