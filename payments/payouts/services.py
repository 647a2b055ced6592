"""Payouts: the run, the provider call, and the terminal state (release is
``payments.payouts.release``, methods ``.methods``, reconciliation ``.reconcile``).

2. ``create_payout``: under the seller's balance lock, one pending Payout of the whole
   ``available``, debited in the same transaction (a partial UNIQUE index allows one payout in
   flight per seller and currency).
3. ``submit_payout``: the provider call, outside any transaction, with our payout id as the
   provider's ``payout_id`` so that a retry can never pay twice.
4. ``apply_payout_status``: the only way a payout becomes terminal — used by the webhook, by
   reconciliation and by definite refusals — under the payout's row lock, then the balance's;
   idempotent; a terminal payout never changes again, except ``paid → reversed``.
"""

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import record
from payments import ledger
from payments.models import (
    EventOutcome,
    LedgerEntry,
    Payout,
    PayoutMethod,
    SellerTransfer,
)
from payments.payouts import methods
from payments.payouts.selectors import eligible_balances
from payments.providers import (
    PayoutResult,
    ProviderError,
    get_provider,
    payout_method_unusable,
)
from veza.events import emit
from veza.tasks import enqueue_on_commit, inside_transaction

logger = logging.getLogger(__name__)

NOTIFY_TASK = "payments.tasks.send_payout_notification"


# --- payout run: create, then submit ------------------------------------------------------
def create_payout(*, seller_id, currency: str, minimum: int | None = None) -> Payout | None:
    """One pending payout of the seller's whole ``available``, debited in the same
    transaction; None when the seller is not eligible (no method, paused, in flight, too
    little). ``minimum`` defaults to PAYOUT_MINIMUM (staff retries pass 1)."""
    minimum = settings.PAYOUT_MINIMUM if minimum is None else minimum
    with transaction.atomic():
        balance = ledger.lock_balances(seller_ids=[seller_id], currency=currency)[str(seller_id)]
        method = PayoutMethod.objects.filter(seller_id=seller_id).first()
        if method is None or method.payouts_paused:
            return None
        if method.status == PayoutMethod.Status.NEEDS_UPDATE:
            return None  # no payout until the seller gives a new method
        if Payout.objects.filter(
            seller_id=seller_id, currency=currency, status=Payout.Status.PENDING
        ).exists():
            return None  # one in flight; the partial UNIQUE index is the real guard
        amount = balance.available
        if amount <= 0 or amount < minimum:
            return None
        try:
            with transaction.atomic():
                payout = Payout.objects.create(
                    seller_id=seller_id,
                    amount=amount,
                    currency=currency,
                    payout_type=method.payout_type,
                    payout_token=method.payout_token,
                    payout_method_id=method.payout_method_id,
                )
        except IntegrityError:
            return None
        ledger.record(
            balance=balance,
            kind=LedgerEntry.Kind.PAYOUT,
            requested=-amount,
            available=-amount,
            payout=payout,
        )
        SellerTransfer.objects.filter(
            seller_id=seller_id,
            currency=currency,
            status=SellerTransfer.Status.RELEASED,
            payout__isnull=True,
        ).update(payout=payout)
        record(
            action="payout.created",
            target=payout,
            details={"seller_id": str(seller_id), "amount": amount, "currency": currency},
        )
    return payout


@dataclass(frozen=True)
class PayoutSubmission:
    payout: Payout
    accepted: bool  # the provider holds the payout
    message: str


def submit_payout(*, payout: Payout) -> PayoutSubmission:
    """Ask the provider to pay. Never inside a transaction; never marks the payout paid.

    - accepted → store the provider id; a terminal answer is applied at once;
    - definite refusal → the payout fails and the money returns to ``available``;
    - unknown outcome → stays pending; reconciliation re-reads or re-submits the same id.
    """
    if inside_transaction():
        raise RuntimeError("submit_payout must not run inside a transaction.")
    provider = get_provider()
    try:
        result = provider.create_payout(
            payout_id=str(payout.pk),
            amount=payout.amount,
            currency=payout.currency,
            seller_id=str(payout.seller_id),
            payout_type=payout.payout_type,
            payout_token=payout.payout_token,
            payout_method_id=payout.payout_method_id or None,
        )
    except ProviderError as exc:
        if exc.payout_method_unusable:
            # A lapsed token: the provider created nothing. The method must be updated.
            methods.mark_needs_update(
                seller_id=payout.seller_id, payout_token=payout.payout_token, reason=exc.message
            )
            apply_payout_status(
                payout_id=payout.pk,
                status=Payout.Status.FAILED,
                error_message=exc.message,
                source="provider",
            )
            payout.refresh_from_db()
            return PayoutSubmission(payout, False, f"Refused: {exc.message}")
        result = _settle_uncertain_create(provider, payout, exc)
        if result is None:
            payout.refresh_from_db()
            if payout.status == Payout.Status.FAILED:
                return PayoutSubmission(payout, False, f"Refused: {exc.message}")
            logger.warning("payout %s: outcome unknown (%s), left pending", payout.pk, exc.message)
            return PayoutSubmission(payout, False, "The provider did not confirm it yet.")

    _record_provider_id(payout=payout, provider_payout_id=result.payout_id)
    _notify(payout, "sent")
    take_note(payout=payout, result=result)
    if result.is_terminal:
        apply_payout_status(
            payout_id=payout.pk,
            status=result.status,
            error_message=result.error_message or "",
            source="provider",
        )
    else:
        provider.on_recorded(payout_id=result.payout_id)
    payout.refresh_from_db()
    return PayoutSubmission(payout, True, "The payout has been sent to the provider.")


def _settle_uncertain_create(provider, payout: Payout, exc: ProviderError) -> PayoutResult | None:
    """After a failed create: does the provider hold the payout? None when it does not or
    cannot tell. A definite refusal fails the payout (its money returns); the provider also
    answers 400 to a repeated payout_id, which the lookup tells apart."""
    if exc.outcome_unknown:
        return None  # reconciliation asks again after PAYOUT_RECONCILE_AFTER
    try:
        return provider.get_payout(str(payout.pk))
    except ProviderError as lookup:
        if lookup.outcome_unknown and not lookup.not_found:
            return None
    apply_payout_status(
        payout_id=payout.pk,
        status=Payout.Status.FAILED,
        error_message=exc.message,
        source="provider",
    )
    return None


def take_note(*, payout: Payout, result: PayoutResult) -> None:
    """What a provider answer says besides the status: its own word for it (shown to
    Finance), the saved method to send next time, and whether the method must be updated."""
    if result.provider_status and result.provider_status != payout.provider_status:
        Payout.objects.filter(pk=payout.pk).update(
            provider_status=result.provider_status, updated_at=timezone.now()
        )
        payout.provider_status = result.provider_status
    if result.payout_method_id:
        methods.remember_saved_method(
            seller_id=payout.seller_id,
            payout_token=payout.payout_token,
            payout_method_id=result.payout_method_id,
        )
    if result.method_unusable:
        methods.mark_needs_update(
            seller_id=payout.seller_id,
            payout_token=payout.payout_token,
            reason=result.error_message or f"The provider reports {result.provider_status}.",
        )


def _record_provider_id(*, payout: Payout, provider_payout_id: str) -> None:
    with transaction.atomic():
        locked = Payout.objects.select_for_update().get(pk=payout.pk)
        if locked.provider_payout_id is None:
            locked.provider_payout_id = provider_payout_id
            locked.save(update_fields=["provider_payout_id", "updated_at"])
        payout.provider_payout_id = locked.provider_payout_id


def run_payouts() -> dict[str, int]:
    """Beat (PAYOUT_SCHEDULE) and ``manage.py run_payouts``: pay every eligible seller."""
    summary: dict[str, int] = defaultdict(int)
    for seller_id, currency in list(eligible_balances()):
        try:
            payout = create_payout(seller_id=seller_id, currency=currency)
            if payout is None:
                summary["skipped"] += 1
                continue
            summary["created"] += 1
            submission = submit_payout(payout=payout)
            summary[str(submission.payout.status)] += 1
        except Exception:  # noqa: BLE001 - one seller must not stop the others
            logger.exception("payout of seller %s failed", seller_id)
            summary["error"] += 1
    return dict(summary)


def retry_payout(*, payout: Payout, actor=None, request=None) -> Payout | None:
    """Staff: a failed payout's money is back in ``available``; pay it again as a new payout
    (the failed one stays failed). None when nothing can be paid now."""
    if payout.status != Payout.Status.FAILED:
        return None
    new = create_payout(seller_id=payout.seller_id, currency=payout.currency, minimum=1)
    record(
        action="payout.retried",
        actor=actor,
        target=payout,
        request=request,
        details={"new_payout_id": str(new.pk) if new else None},
    )
    if new is not None:
        submit_payout(payout=new)
        new.refresh_from_db()
    return new


# --- the terminal state -------------------------------------------------------------------
def _lock_payout(*, payout_id=None, provider_payout_id: str | None = None) -> Payout | None:
    candidates = Payout.objects.select_for_update()
    if provider_payout_id:
        payout = candidates.filter(provider_payout_id=provider_payout_id).first()
        if payout is not None:
            return payout
    for ident in (payout_id, provider_payout_id):
        try:
            pk = uuid.UUID(str(ident)) if ident else None
        except ValueError:
            pk = None
        if pk is not None:
            payout = candidates.filter(pk=pk).first()
            if payout is not None:
                return payout
    return None


def apply_payout_status(
    *,
    status: Payout.Status,
    payout_id=None,
    provider_payout_id: str | None = None,
    error_message: str = "",
    source: str = "webhook",
    provider_status: str = "",
) -> tuple[EventOutcome, Payout | None]:
    """Apply a provider status (ours, translated) to a payout, idempotently.

    Locks the payout, then the seller's payout method, then its balance. pending → paid (its
    transfers paid) | failed (money back to available); paid → reversed (money back); nothing
    else. ``provider_status``, the provider's own word, is kept for Finance and may say that
    the seller's method must be updated (``ineligible``, ``requires_payout_method_data``).
    """
    with transaction.atomic():
        payout = _lock_payout(payout_id=payout_id, provider_payout_id=provider_payout_id)
        if payout is None:
            return EventOutcome.IGNORED, None
        if provider_status and not payout.is_terminal:
            payout.provider_status = provider_status[:40]
            payout.save(update_fields=["provider_status", "updated_at"])
            if payout_method_unusable(provider_status):
                methods.mark_needs_update(
                    seller_id=payout.seller_id,
                    payout_token=payout.payout_token,
                    reason=error_message or f"The provider reports {provider_status}.",
                )
        if status == Payout.Status.PENDING:
            return EventOutcome.IGNORED, payout  # initiated, processing: nothing to do
        current = payout.status
        allowed = current == Payout.Status.PENDING or (
            current == Payout.Status.PAID and status == Payout.Status.REVERSED
        )
        if not allowed:
            return EventOutcome.DUPLICATE, payout  # a terminal payout never changes again
        now = timezone.now()
        if provider_payout_id and payout.provider_payout_id is None:
            payout.provider_payout_id = provider_payout_id
        # A share refunded or charged back while the payout was in flight stays reversed.
        transfers = (
            SellerTransfer.objects.select_for_update()
            .filter(payout=payout)
            .exclude(status=SellerTransfer.Status.REVERSED)
        )
        if status == Payout.Status.PAID:
            payout.status, payout.paid_at = Payout.Status.PAID, now
            transfers.update(status=SellerTransfer.Status.PAID)
        else:
            payout.status = status
            if status == Payout.Status.FAILED:
                payout.failed_at = now
            else:
                payout.reversed_at = now
            payout.failure_reason = (error_message or _default_reason(status))[:2000]
            _return_money(payout)
            # The shares are not paid: the next payout carries them again.
            transfers.update(status=SellerTransfer.Status.RELEASED, payout=None)
        payout.save()
        if payout.status in (Payout.Status.PAID, Payout.Status.FAILED):
            emit(f"payout.{payout.status}", payout)
        record(
            action=f"payout.{payout.status}",
            target=payout,
            details={"source": source, "seller_id": str(payout.seller_id)},
        )
        _notify(payout, str(payout.status))
    return EventOutcome.PROCESSED, payout


def _default_reason(status: str) -> str:
    if status == Payout.Status.REVERSED:
        return "The payout was reversed by the provider."
    return "The payment provider refused the payout."


def _return_money(payout: Payout) -> None:
    balance = ledger.lock_balances(seller_ids=[payout.seller_id], currency=payout.currency)[
        str(payout.seller_id)
    ]
    # Back to available; any debt taken meanwhile is repaid from it first.
    ledger.credit(
        balance=balance,
        kind=LedgerEntry.Kind.PAYOUT_RETURN,
        amount=payout.amount,
        into="available",
        payout=payout,
    )


def _notify(payout: Payout, event: str) -> None:
    # By name: the task module imports this one.
    enqueue_on_commit(NOTIFY_TASK, payout_id=str(payout.pk), event=event)


def apply_payout_event(
    *, payout_id: str, status: Payout.Status, error_message: str = "", provider_status: str = ""
):
    """The webhook's entry point: our id is the provider's payout_id."""
    return apply_payout_status(
        payout_id=payout_id,
        provider_payout_id=payout_id,
        status=status,
        error_message=error_message,
        provider_status=provider_status,
    )
