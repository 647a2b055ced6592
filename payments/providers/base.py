"""The payment provider interface: three calls, one error type."""

from dataclasses import dataclass
from typing import Protocol


class ProviderError(Exception):
    """The provider refused, or we cannot tell what happened.

    ``outcome_unknown`` is true for timeouts, connection errors, 5xx and malformed answers:
    the operation may have happened at the provider. ``not_found`` marks a 404 on a lookup.
    ``status_code`` is the provider's HTTP status when it answered.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        outcome_unknown: bool = False,
        not_found: bool = False,
    ):
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.outcome_unknown = outcome_unknown
        self.not_found = not_found


@dataclass(frozen=True)
class PaymentResult:
    payment_id: str
    status: str
    client_secret: str


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    payment_id: str
    status: str  # pending | succeeded | failed | review
    amount: int | None = None
    currency: str | None = None
    error_message: str | None = None

    @property
    def is_terminal(self) -> bool:
        from payments.services import TERMINAL_STATUSES

        return self.status in TERMINAL_STATUSES


class PaymentProvider(Protocol):
    def create_payment(self, *, amount: int, currency: str, order_id: str) -> PaymentResult: ...

    def create_refund(
        self, *, payment_id: str, refund_id: str, amount: int, reason: str, order_id: str
    ) -> RefundResult: ...

    def get_refund(self, refund_id: str) -> RefundResult: ...
