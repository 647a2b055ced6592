"""Which provider answers: Hyperswitch when HYPERSWITCH_BASE_URL is set, else the sandbox."""

from django.conf import settings

from payments.providers.base import (
    PaymentProvider,
    PaymentResult,
    PayoutResult,
    ProviderError,
    RefundResult,
    dispute_status,
    payout_event_status,
    payout_method_unusable,
    payout_status,
    refund_status,
)
from payments.providers.hyperswitch import HyperswitchProvider
from payments.providers.sandbox import SandboxProvider


def get_provider() -> PaymentProvider:
    if settings.HYPERSWITCH_BASE_URL:
        return HyperswitchProvider(
            base_url=settings.HYPERSWITCH_BASE_URL,
            api_key=settings.HYPERSWITCH_API_KEY,
            timeout=settings.PSP_TIMEOUT,
        )
    if settings.APP_ENV == "production":  # settings validation refuses this too
        raise ProviderError("The sandbox payment provider is refused in production.")
    return SandboxProvider()


__all__ = [
    "PaymentProvider",
    "PaymentResult",
    "PayoutResult",
    "ProviderError",
    "RefundResult",
    "dispute_status",
    "get_provider",
    "payout_event_status",
    "payout_method_unusable",
    "payout_status",
    "refund_status",
]
