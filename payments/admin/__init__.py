"""The payments back-office: each console registers its ModelAdmins (the overview its page)
when imported."""

from payments.admin import (  # noqa: F401
    disputes,
    money,
    overview,
    payouts,
    refunds,
    sync_batches,
    webhooks,
)
