"""The payment provider interface: its calls, one error type, and its vocabulary.

The provider has many spellings for a terminal status; they are translated here, once, so
that services only ever see our own ``Refund.Status`` values.
"""

from dataclasses import dataclass

from payments.models import Dispute, Payout, Refund

# The provider's words for a terminal refund (its API says succeeded/failed; older payloads
# and connectors also use these spellings). Anything else — pending, review — is not final.
_REFUND_STATUSES = {
    "succeeded": Refund.Status.SUCCEEDED,
    "success": Refund.Status.SUCCEEDED,
    "failed": Refund.Status.FAILED,
    "failure": Refund.Status.FAILED,
    "transaction_failure": Refund.Status.FAILED,
}


# Dispute event types and ``dispute_status`` values (Hyperswitch says dispute_opened,
# dispute_won...; some connectors drop the prefix) → our Dispute.Status.
_DISPUTE_STATUSES = {
    "opened": Dispute.Status.OPENED,
    "open": Dispute.Status.OPENED,
    "challenged": Dispute.Status.CHALLENGED,
    "won": Dispute.Status.WON,
    "lost": Dispute.Status.LOST,
    "accepted": Dispute.Status.ACCEPTED,
    "cancelled": Dispute.Status.CANCELLED,
    "canceled": Dispute.Status.CANCELLED,
    "expired": Dispute.Status.EXPIRED,
}


def dispute_status(provider_word) -> Dispute.Status | None:
    """Our dispute status for an event type or a ``dispute_status``; None when unknown."""
    if not isinstance(provider_word, str):
        return None
    word = provider_word.strip().lower().removeprefix("dispute_")
    return _DISPUTE_STATUSES.get(word)


def refund_status(provider_status: str | None) -> Refund.Status:
    """Our status for the provider's word: SUCCEEDED, FAILED, or PENDING (not final yet)."""
    return _REFUND_STATUSES.get((provider_status or "").strip().lower(), Refund.Status.PENDING)


# Hyperswitch's PayoutStatus → ours. Terminal: ``success``; ``failed``, ``cancelled``,
# ``expired`` and ``ineligible`` (a failure: the money never left); ``reversed`` after success.
# Every other word (initiated, pending, requires_creation, requires_confirmation,
# requires_fulfillment, requires_vendor_account_creation, requires_payout_method_data) is in
# flight.
_PAYOUT_STATUSES = {
    "success": Payout.Status.PAID,
    "succeeded": Payout.Status.PAID,
    "failed": Payout.Status.FAILED,
    "cancelled": Payout.Status.FAILED,
    "canceled": Payout.Status.FAILED,
    "expired": Payout.Status.FAILED,
    "ineligible": Payout.Status.FAILED,
    "reversed": Payout.Status.REVERSED,
}
# The statuses that say the seller's payout method cannot be used: it must be updated.
_METHOD_UNUSABLE = frozenset({"ineligible", "requires_payout_method_data"})
# The one in-flight status that must not be overridden by a failure event: the payout waits
# for method data and stays pending (listed for Finance).
_WAITS_FOR_METHOD = "requires_payout_method_data"


def _word(value) -> str:
    return value.strip().lower() if isinstance(value, str) else ""


def payout_status(provider_status: str | None) -> Payout.Status:
    """Our status for the provider's word: PAID, FAILED, REVERSED, or PENDING (in flight)."""
    return _PAYOUT_STATUSES.get(_word(provider_status), Payout.Status.PENDING)


def payout_method_unusable(provider_status: str | None) -> bool:
    """Whether the provider's status says the seller's payout method must be updated."""
    return _word(provider_status) in _METHOD_UNUSABLE


def payout_event_status(event_type: str, status: str = "") -> Payout.Status:
    """A payout webhook's meaning: its event type (``payout_success``…) wins over ``status``,
    except that a payout waiting for method data stays in flight whatever the event says."""
    if _word(status) == _WAITS_FOR_METHOD:
        return Payout.Status.PENDING
    event = _word(event_type)
    if event.startswith("payout_"):
        translated = payout_status(event.removeprefix("payout_"))
        if translated != Payout.Status.PENDING:
            return translated
    return payout_status(status)


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
        code: str = "",
    ):
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.outcome_unknown = outcome_unknown
        self.not_found = not_found
        self.code = code  # the provider's error code (``IR_29``…), when it gave one

    @property
    def payout_method_unusable(self) -> bool:
        """A payout refused for its method (a lapsed widget token: 422 ``IR_29``); the
        provider created nothing."""
        return self.status_code == 422 or self.code == "IR_29"


@dataclass(frozen=True)
class PaymentResult:
    payment_id: str
    status: str
    client_secret: str


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    payment_id: str
    status: Refund.Status  # translated: SUCCEEDED, FAILED, or PENDING (pending, review...)
    amount: int | None = None
    currency: str | None = None
    error_message: str | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status != Refund.Status.PENDING


@dataclass(frozen=True)
class PayoutResult:
    payout_id: str
    status: Payout.Status  # translated: PAID, FAILED, REVERSED or PENDING (in flight)
    amount: int | None = None
    currency: str | None = None
    error_message: str | None = None
    provider_status: str = ""  # the provider's own word, shown to Finance
    payout_method_id: str | None = None  # the saved method, to send on later payouts

    @property
    def method_unusable(self) -> bool:
        return payout_method_unusable(self.provider_status)

    @property
    def is_terminal(self) -> bool:
        return self.status != Payout.Status.PENDING


class PaymentProvider:
    """What Veza asks of a payment provider. Subclasses implement the calls."""

    def create_payment(self, *, amount: int, currency: str, order_id: str) -> PaymentResult:
        raise NotImplementedError

    def create_refund(
        self, *, payment_id: str, refund_id: str, amount: int, reason: str, order_id: str
    ) -> RefundResult:
        raise NotImplementedError

    def get_refund(self, refund_id: str) -> RefundResult:
        raise NotImplementedError

    def create_payout(
        self,
        *,
        payout_id: str,
        amount: int,
        currency: str,
        seller_id: str,
        payout_type: str,
        payout_token: str,
        payout_method_id: str | None = None,
    ) -> PayoutResult:
        """Pay out; ``payout_method_id`` (the saved method) is sent instead of the token when
        known, since the widget's token lapses."""
        raise NotImplementedError

    def get_payout(self, payout_id: str) -> PayoutResult:
        raise NotImplementedError

    def on_recorded(
        self,
        *,
        payment_id: str | None = None,
        refund_id: str | None = None,
        payout_id: str | None = None,
    ) -> None:
        """Called once Veza has stored the provider's id of a payment, refund or payout.

        A real provider notifies by webhook on its own: nothing to do. The sandbox settles
        what it was asked here, by sending its signed webhook from a task.
        """

    def upload_file(self, *, content: bytes, filename: str, file_type: str) -> str:
        """Upload one dispute evidence document (``file_type`` is its MIME type); returns the
        provider's file id."""
        raise NotImplementedError

    def submit_evidence(
        self, *, dispute_id: str, receipt_file_id: str, service_documentation_file_id: str
    ) -> None:
        """Submit uploaded files as a dispute's evidence (a repeat replaces the evidence)."""
        raise NotImplementedError

    def accept_dispute(self, *, dispute_id: str) -> None:
        """Concede the dispute; the provider later reports it ``dispute_accepted``."""
        raise NotImplementedError
