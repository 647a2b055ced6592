"""The payments back-office: each console registers its ModelAdmins when imported."""

from payments.admin import payouts, refunds  # noqa: F401
