"""The payments back-office: each console registers its ModelAdmins (the overview its page)
when imported."""

from payments.admin import disputes, money, overview, payouts, refunds, webhooks  # noqa: F401
