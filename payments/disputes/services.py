"""Chargebacks: the provider's dispute events, applied under the order's and the dispute's
row locks, idempotently, in any order.

- The first event of a new dispute (whatever it is) opens it: the order is ``disputed``, its
  licences suspended, each seller's share of the disputed amount moved to ``held`` (from
  pending, then available, the rest as debt), the sellers and Finance notified.
- ``challenged`` only updates the row.
- Won or cancelled: the hold returns where it came from, licences restored, the order back.
- Lost, accepted or expired: the held money is gone (``dispute_debit``), licences revoked,
  the order ``charged_back``, and ``DISPUTE_FEE`` debited from the sellers pro rata.
- A terminal dispute never changes again; a ``dispute_lost`` before any ``dispute_opened``
  applies both.
- An open dispute at the ``dispute`` stage gets its evidence sent (``disputes/evidence.py``);
  never one whose first event is already terminal.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from audit.services import record
from invoicing.services import issue_credit_note
from marketplace import services as orders
from marketplace.models import Order
from payments import ledger
from payments.disputes.evidence import open_evidence
from payments.ledger import shares_by_seller
from payments.models import (
    Dispute,
    DisputeShare,
    EventOutcome,
    LedgerEntry,
    SellerTransfer,
)
from payments.providers import dispute_status
from veza.events import emit
from veza.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)

NOTIFY_TASK = "payments.tasks.send_dispute_notification"


@dataclass(frozen=True)
class DisputeEvent:
    """What a dispute webhook says, already in our words."""

    dispute_id: str
    payment_id: str
    status: Dispute.Status | None
    amount: int | None
    currency: str
    stage: str = ""
    reason: str = ""
    evidence_due_at: datetime | None = None
    created_at: datetime | None = None


def parse_time(value) -> datetime | None:
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        parsed = parse_datetime(value.strip())
    except ValueError:
        return None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.UTC)
    return parsed


def event_from(*, event_type: str, obj: dict) -> DisputeEvent:
    """The dispute object of a webhook (``content.object``) → a ``DisputeEvent``."""
    raw_amount = obj.get("amount")
    amount = None
    if isinstance(raw_amount, int) and not isinstance(raw_amount, bool):
        amount = raw_amount
    elif isinstance(raw_amount, str) and raw_amount.strip().isdigit() and len(raw_amount) < 19:
        amount = int(raw_amount.strip())
    status = dispute_status(event_type) or dispute_status(obj.get("dispute_status"))

    def text(key: str, limit: int) -> str:
        value = obj.get(key)
        return value.strip()[:limit] if isinstance(value, str) else ""

    return DisputeEvent(
        dispute_id=text("dispute_id", 128),
        payment_id=text("payment_id", 128),
        status=status,
        amount=amount if amount is not None and amount >= 0 else None,
        currency=text("currency", 3).upper(),
        stage=text("dispute_stage", 32),
        reason=text("connector_reason", 255),
        evidence_due_at=parse_time(obj.get("challenge_required_by")),
        created_at=parse_time(obj.get("created_at")),
    )


def apply_dispute_event(event: DisputeEvent) -> tuple[EventOutcome, Dispute | None, str]:
    """Apply one dispute event. Returns (outcome, dispute, detail for the event log).

    Locks the order, then the dispute, then the sellers' balances by primary key.
    """
    if not event.dispute_id or event.status is None:
        return EventOutcome.IGNORED, None, "dispute event without a dispute id or status"
    with transaction.atomic():
        order = orders.lock_order(payment_id=event.payment_id) if event.payment_id else None
        if order is None:
            existing = Dispute.objects.filter(provider_dispute_id=event.dispute_id).first()
            if existing is None:
                return EventOutcome.IGNORED, None, "unknown payment"
            order = orders.lock_order(order_id=existing.order_id)
        if order.status not in Order.PAID:
            return EventOutcome.IGNORED, None, f"order is {order.status}, not paid"
        dispute = (
            Dispute.objects.select_for_update().filter(provider_dispute_id=event.dispute_id).first()
        )
        now = timezone.now()
        created = dispute is None
        if created:
            dispute = _open(order=order, event=event, now=now)
        elif dispute.order_id != order.pk:
            return EventOutcome.IGNORED, dispute, "dispute belongs to another order"
        if dispute.is_terminal:
            return EventOutcome.DUPLICATE, dispute, f"dispute already {dispute.status}"
        _update_details(dispute, event)
        if event.status in Dispute.RETURNS_MONEY:
            _release(dispute=dispute, order=order, status=event.status, now=now)
        elif event.status in Dispute.TERMINAL:
            _charge_back(dispute=dispute, order=order, status=event.status, now=now)
        elif event.status == Dispute.Status.CHALLENGED:
            dispute.status = Dispute.Status.CHALLENGED
        elif not created:
            dispute.save()
            open_evidence(dispute)  # a dispute that reached the ``dispute`` stage since
            return EventOutcome.DUPLICATE, dispute, "dispute already open"
        dispute.save()
        open_evidence(dispute)
        if created:
            emit("dispute.opened", dispute)
        if dispute.is_terminal:
            emit("dispute.closed", dispute)
        record(
            action=f"dispute.{dispute.status}",
            target=dispute,
            details={
                "order_id": str(order.pk),
                "amount": dispute.amount,
                "currency": dispute.currency,
                "stage": dispute.stage,
            },
        )
        return EventOutcome.PROCESSED, dispute, f"dispute → {dispute.status}"


def _update_details(dispute: Dispute, event: DisputeEvent) -> None:
    if event.stage:
        dispute.stage = event.stage
    if event.reason:
        dispute.reason = event.reason
    if event.evidence_due_at:
        dispute.evidence_due_at = event.evidence_due_at


def _open(*, order: Order, event: DisputeEvent, now) -> Dispute:
    """A new dispute: the order is disputed, licences suspended, sellers' shares held."""
    standing = order.total_amount - order.refunded_amount
    amount = standing if event.amount is None else min(event.amount, standing)
    try:
        with transaction.atomic():
            dispute = Dispute.objects.create(
                order=order,
                provider_dispute_id=event.dispute_id,
                amount=amount,
                currency=event.currency or order.currency,
                status=Dispute.Status.OPENED,
                stage=event.stage,
                reason=event.reason,
                evidence_due_at=event.evidence_due_at,
                opened_at=event.created_at or now,
            )
    except IntegrityError:  # created by a concurrent delivery: take its row, locked
        return Dispute.objects.select_for_update().get(provider_dispute_id=event.dispute_id)
    dispute.order_status_before = orders.suspend_for_dispute(order=order, now=now)
    shares = _held_shares(order=order, amount=amount, standing=standing)
    balances = ledger.lock_balances(seller_ids=shares.keys(), currency=order.currency)
    for seller_id in sorted(shares):
        taken = ledger.hold(
            balance=balances[seller_id], amount=shares[seller_id], order=order, dispute=dispute
        )
        DisputeShare.objects.create(
            dispute=dispute,
            seller_id=seller_id,
            amount=shares[seller_id],
            from_pending=taken.pending,
            from_available=taken.available,
            as_debt=taken.debt,
        )
    dispute.save()
    _notify(dispute, "opened")
    return dispute


def _held_shares(*, order: Order, amount: int, standing: int) -> dict[str, int]:
    """Each seller's part of the disputed amount: its standing share of the order, pro rata."""
    items = [item for item in order.items.all() if not item.refunded]
    shares = shares_by_seller(items)
    if not standing:
        return {}
    return {seller: share * amount // standing for seller, share in shares.items() if share}


def _release(*, dispute: Dispute, order: Order, status: str, now) -> None:
    """Won or cancelled: every held amount goes back where it came from."""
    shares = list(dispute.shares.all())
    balances = ledger.lock_balances(
        seller_ids=[s.seller_id for s in shares], currency=order.currency
    )
    for share in sorted(shares, key=lambda s: str(s.seller_id)):
        balance = balances[str(share.seller_id)]
        # The part that became debt is forgiven; what of it was already repaid from later
        # earnings comes back as available money.
        forgiven = min(share.as_debt, balance.debt)
        ledger.record(
            balance=balance,
            kind=LedgerEntry.Kind.DISPUTE_RELEASE,
            requested=share.amount,
            pending=share.from_pending,
            available=share.from_available + (share.as_debt - forgiven),
            held=-(share.from_pending + share.from_available),
            debt=-forgiven,
            order=order,
            dispute=dispute,
        )
    orders.end_dispute(order=order, restore_status=dispute.order_status_before)
    dispute.status = status
    dispute.closed_at = now
    _notify(dispute, "closed")


def _charge_back(*, dispute: Dispute, order: Order, status: str, now) -> None:
    """Lost, accepted or expired: the held money is gone, plus the fee, pro rata."""
    shares = sorted(dispute.shares.all(), key=lambda s: str(s.seller_id))
    fees = _fee_shares(shares)
    balances = ledger.lock_balances(
        seller_ids=[s.seller_id for s in shares], currency=order.currency
    )
    standing = {}
    for share in shares:
        balance = balances[str(share.seller_id)]
        held = share.from_pending + share.from_available
        fee = fees.get(str(share.seller_id), 0)
        # The hold is consumed; the fee is taken like any debit (what is missing, owed).
        ledger.debit(
            balance=balance,
            kind=LedgerEntry.Kind.DISPUTE_DEBIT,
            amount=fee,
            requested=-(share.amount + fee),
            held=-held,
            always=True,
            order=order,
            dispute=dispute,
        )
        standing[str(share.seller_id)] = share.amount
    transfers = SellerTransfer.objects.select_for_update().filter(order=order)
    for transfer in transfers.order_by("pk"):
        transfer.amount = max(0, transfer.amount - standing.get(str(transfer.seller_id), 0))
        if transfer.amount == 0:
            transfer.status = SellerTransfer.Status.REVERSED
        transfer.save(update_fields=["amount", "status", "updated_at"])
    # The bank took back what was still paid for: the items not refunded yet.
    unrefunded = [item for item in order.items.all() if not item.refunded]
    issue_credit_note(
        order=order, items=unrefunded, reason=f"Chargeback ({status})", dispute_id=dispute.pk
    )
    orders.charge_back(order=order, now=now)
    dispute.status = status
    dispute.closed_at = now
    _notify(dispute, "closed")


def _fee_shares(shares: list[DisputeShare]) -> dict[str, int]:
    """DISPUTE_FEE split by the sellers' held shares; the rounding remainder to the largest."""
    fee = settings.DISPUTE_FEE
    total = sum(s.amount for s in shares)
    if not fee or not shares:
        return {}
    if not total:
        parts = {str(s.seller_id): 0 for s in shares}
        parts[str(shares[0].seller_id)] = fee
        return parts
    parts = {str(s.seller_id): fee * s.amount // total for s in shares}
    largest = max(shares, key=lambda s: (s.amount, str(s.seller_id)))
    parts[str(largest.seller_id)] += fee - sum(parts.values())
    return parts


def _notify(dispute: Dispute, event: str) -> None:
    # By name: the task module imports this one.
    enqueue_on_commit(NOTIFY_TASK, dispute_id=str(dispute.pk), event=event)
