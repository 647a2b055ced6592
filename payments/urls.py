from django.urls import path

from payments.api import views

# First of /api/v1/ (veza/urls.py): the provider's deliveries, replays above all, are the
# busiest requests, and resolving a path costs a try of every pattern before its own.
webhook_urlpatterns = [
    path(
        "webhooks/hyperswitch", views.HyperswitchWebhookView.as_view(), name="webhook-hyperswitch"
    ),
]

urlpatterns = [
    path("marketplace/seller/balance", views.SellerBalanceView.as_view(), name="seller-balance"),
    path(
        "marketplace/seller/transfers",
        views.SellerTransferListView.as_view(),
        name="seller-transfers",
    ),
    path(
        "marketplace/seller/payout-method",
        views.SellerPayoutMethodView.as_view(),
        name="seller-payout-method",
    ),
    path("marketplace/seller/payouts", views.SellerPayoutListView.as_view(), name="seller-payouts"),
    path(
        "marketplace/seller/payouts/<uuid:pk>",
        views.SellerPayoutDetailView.as_view(),
        name="seller-payout-detail",
    ),
    path(
        "marketplace/seller/statement",
        views.SellerStatementView.as_view(),
        name="seller-statement",
    ),
]
