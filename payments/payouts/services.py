"""Seller money after the sale: release, payout run, payout status, reconciliation.

1. ``release_order`` / ``release_due``: once an order's refund window has passed and nothing
   is pending or disputed on it, each seller's standing share moves ``pending → available``,
   under the order's row lock then the balances' (the refunds' lock order), once per order and
   seller (a partial UNIQUE index on the ledger refuses a second ``release`` entry).
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
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import record
from marketplace import services as orders
from marketplace.models import Order
from payments import ledger
from payments.models import (
    EventOutcome,
    LedgerEntry,
    Payout,
    PayoutMethod,
    SellerBalance,
    SellerTransfer,
)
from payments.providers import PayoutResult, ProviderError, get_provider
from veza.events import emit
from veza.tasks import enqueue_on_commit, inside_transaction

logger = logging.getLogger(__name__)

NOTIFY_TASK = "payments.tasks.send_payout_notification"
# Orders whose money may leave the window: paid, nothing pending, nothing disputed.
RELEASABLE = frozenset(
    {Order.Status.COMPLETED, Order.Status.PARTIALLY_REFUNDED, Order.Status.REFUNDED}
)


# --- release ------------------------------------------------------------------------------
def releasable_order_ids(*, now=None):
    """Orders with a pending transfer whose refund window has passed."""
    now = now or timezone.now()
    return (
        SellerTransfer.objects.filter(
            status=SellerTransfer.Status.PENDING,
            order__refund_deadline__lt=now,
            order__status__in=list(RELEASABLE),
        )
        .values_list("order_id", flat=True)
        .distinct()
    )


def release_order(*, order_id, now=None) -> int:
    """Move each seller's standing share of the order from pending to available.

    Returns how many transfers it released. Safe to run on two workers at once: the order's
    row lock serialises them, and the ledger's UNIQUE (seller, order, release) refuses a
    second entry whatever happens.
    """
    now = now or timezone.now()
    with transaction.atomic():
        order = orders.lock_order(order_id=order_id)
        if order is None or order.status not in RELEASABLE:
            return 0
        if order.refund_deadline is None or order.refund_deadline >= now:
            return 0
        seller_ids = list(
            SellerTransfer.objects.filter(
                order=order, status=SellerTransfer.Status.PENDING
            ).values_list("seller_id", flat=True)
        )
        if not seller_ids:
            return 0
        balances = ledger.lock_balances(seller_ids=seller_ids, currency=order.currency)
        transfers = (
            SellerTransfer.objects.select_for_update()
            .filter(order=order, status=SellerTransfer.Status.PENDING)
            .order_by("pk")
        )
        released = 0
        for transfer in transfers:
            balance = balances[str(transfer.seller_id)]
            # What a refund or a debt already took is not in pending any more.
            amount = min(transfer.amount, balance.pending)
            try:
                with transaction.atomic():
                    ledger.record(
                        balance=balance,
                        kind=LedgerEntry.Kind.RELEASE,
                        requested=transfer.amount,
                        pending=-amount,
                        available=amount,
                        order=order,
                    )
            except IntegrityError:
                balance.refresh_from_db()  # released already: the savepoint undid our change
            transfer.status = SellerTransfer.Status.RELEASED
            transfer.released_at = now
            transfer.save(update_fields=["status", "released_at", "updated_at"])
            released += 1
    return released


def release_due(*, now=None) -> dict[str, int]:
    """Beat: release every order whose refund window has passed."""
    summary: dict[str, int] = defaultdict(int)
    for order_id in list(releasable_order_ids(now=now)):
        try:
            summary["transfers"] += release_order(order_id=order_id, now=now)
            summary["orders"] += 1
        except Exception:  # noqa: BLE001 - one bad order must not stop the others
            logger.exception("release of order %s failed", order_id)
            summary["error"] += 1
    return dict(summary)


# --- payout method ------------------------------------------------------------------------
def set_payout_method(*, seller, payout_type: str, payout_token: str, request=None):
    """Where the seller's payouts go; the provider's customer id is the seller's id."""
    with transaction.atomic():
        method, created = PayoutMethod.objects.select_for_update().get_or_create(
            seller=seller, defaults={"payout_type": payout_type, "payout_token": payout_token}
        )
        if not created:
            method.payout_type, method.payout_token = payout_type, payout_token
            method.save(update_fields=["payout_type", "payout_token", "updated_at"])
        record(
            action="payout_method.set",
            actor=seller,
            target=method,
            request=request,
            details={"payout_type": payout_type, "created": created},
        )
    return method


def set_payouts_paused(*, seller, paused: bool, actor=None, request=None) -> PayoutMethod | None:
    """Staff pause or resume a seller's payouts (audited). None when it has no method."""
    with transaction.atomic():
        method = PayoutMethod.objects.select_for_update().filter(seller=seller).first()
        if method is None:
            return None
        method.payouts_paused = paused
        method.save(update_fields=["payouts_paused", "updated_at"])
        record(
            action="payouts.paused" if paused else "payouts.resumed",
            actor=actor,
            target=method,
            request=request,
            details={"seller_id": str(seller.pk)},
        )
    return method


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
        )
    except ProviderError as exc:
        result = _settle_uncertain_create(provider, payout, exc)
        if result is None:
            payout.refresh_from_db()
            if payout.status == Payout.Status.FAILED:
                return PayoutSubmission(payout, False, f"Refused: {exc.message}")
            logger.warning("payout %s: outcome unknown (%s), left pending", payout.pk, exc.message)
            return PayoutSubmission(payout, False, "The provider did not confirm it yet.")

    _record_provider_id(payout=payout, provider_payout_id=result.payout_id)
    _notify(payout, "sent")
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


def _record_provider_id(*, payout: Payout, provider_payout_id: str) -> None:
    with transaction.atomic():
        locked = Payout.objects.select_for_update().get(pk=payout.pk)
        if locked.provider_payout_id is None:
            locked.provider_payout_id = provider_payout_id
            locked.save(update_fields=["provider_payout_id", "updated_at"])
        payout.provider_payout_id = locked.provider_payout_id


def eligible_balances():
    """(seller_id, currency) pairs that the payout run should consider."""
    return (
        SellerBalance.objects.filter(
            available__gte=max(settings.PAYOUT_MINIMUM, 1),
            seller__payout_method__payouts_paused=False,
        )
        .order_by("seller_id", "currency")
        .values_list("seller_id", "currency")
    )


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
) -> tuple[EventOutcome, Payout | None]:
    """Apply a provider status (ours, translated) to a payout, idempotently.

    Locks the payout, then the seller's balance. pending → paid (its transfers paid) |
    failed (money back to available); paid → reversed (money back); nothing else.
    """
    with transaction.atomic():
        payout = _lock_payout(payout_id=payout_id, provider_payout_id=provider_payout_id)
        if payout is None:
            return EventOutcome.IGNORED, None
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
        transfers = SellerTransfer.objects.select_for_update().filter(payout=payout)
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


def apply_payout_event(*, payout_id: str, status: Payout.Status, error_message: str = ""):
    """The webhook's entry point: our id is the provider's payout_id."""
    return apply_payout_status(
        payout_id=payout_id,
        provider_payout_id=payout_id,
        status=status,
        error_message=error_message,
    )


# --- reconciliation -----------------------------------------------------------------------
def stuck_payouts():
    cutoff = timezone.now() - timedelta(seconds=settings.PAYOUT_RECONCILE_AFTER)
    return Payout.objects.filter(status=Payout.Status.PENDING, created_at__lte=cutoff)


def reconcile_payout(*, payout: Payout) -> str:
    """Ask the provider where a pending payout stands; re-submit the same id when it has none."""
    payout = Payout.objects.get(pk=payout.pk)
    if payout.is_terminal:
        return "terminal"
    provider = get_provider()
    try:
        result = provider.get_payout(payout.provider_payout_id or str(payout.pk))
    except ProviderError as exc:
        if not exc.not_found:
            return "unreachable"
        # The provider never saw it (the create timed out before reaching it): same id again.
        submission = submit_payout(payout=payout)
        return "resubmitted" if submission.accepted else str(submission.payout.status)
    if payout.provider_payout_id is None:
        _record_provider_id(payout=payout, provider_payout_id=result.payout_id)
    if not result.is_terminal:
        return "still_pending"
    apply_payout_status(
        payout_id=payout.pk,
        status=result.status,
        error_message=result.error_message or "",
        source="reconciliation",
    )
    return str(result.status)


def reconcile_payouts(*, payouts=None) -> dict[str, int]:
    summary: dict[str, int] = defaultdict(int)
    for payout in payouts if payouts is not None else stuck_payouts().order_by("created_at"):
        try:
            summary[reconcile_payout(payout=payout)] += 1
        except Exception:  # noqa: BLE001 - one bad payout must not stop the others
            logger.exception("reconciliation of payout %s failed", payout.pk)
            summary["error"] += 1
    return dict(summary)


# --- consistency (check_ledger) -----------------------------------------------------------
def payout_differences() -> list[dict]:
    """Payouts whose ledger entries disagree with their status: every payout has one
    ``payout`` entry of −amount, a failed or reversed one also a ``payout_return`` of +amount;
    a paid payout's transfers are paid."""
    entries: dict = defaultdict(dict)
    for payout_id, kind, requested in LedgerEntry.objects.filter(payout__isnull=False).values_list(
        "payout_id", "kind", "requested_amount"
    ):
        entries[payout_id][kind] = requested
    problems = []
    for payout in Payout.objects.all():
        expected = {LedgerEntry.Kind.PAYOUT: -payout.amount}
        if payout.status in (Payout.Status.FAILED, Payout.Status.REVERSED):
            expected[LedgerEntry.Kind.PAYOUT_RETURN] = payout.amount
        if entries.get(payout.pk, {}) != expected:
            problems.append(
                {
                    "payout_id": str(payout.pk),
                    "status": payout.status,
                    "entries": entries.get(payout.pk),
                }
            )
    unpaid = SellerTransfer.objects.filter(payout__status=Payout.Status.PAID).exclude(
        status=SellerTransfer.Status.PAID
    )
    problems.extend(
        {"transfer_id": str(t.pk), "status": t.status, "payout_id": str(t.payout_id)}
        for t in unpaid
    )
    return problems
