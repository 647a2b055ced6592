"""The payments back-office: each console registers its ModelAdmins when imported."""

from payments.admin import disputes, money, payouts, refunds, webhooks  # noqa: F401
