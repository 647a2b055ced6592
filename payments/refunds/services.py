"""The refund workflow.

1. ``open_refund``: a short transaction under the order's row lock creates a pending refund.
2. ``submit_refund``: the provider call, outside any transaction, with our refund id as the
   provider's ``refund_id`` so that a retry can never refund twice.
3. ``apply_refund_status``: the only way a refund becomes terminal — used by the webhook, by
   reconciliation and by definite provider refusals — under row locks taken in one order
   (refund, order, then seller balances by primary key), idempotent.
"""

import logging
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import (
    Case,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    Value,
    When,
    prefetch_related_objects,
)
from django.utils import timezone

from audit.services import record
from marketplace import selectors as order_rules
from marketplace import services as orders
from marketplace.models import Order, OrderItem
from payments import errors, ledger
from payments.ledger import shares_by_seller
from payments.metrics import refund_transitions
from payments.models import EventOutcome, LedgerEntry, Refund, RefundItem, SellerTransfer
from payments.providers import ProviderError, RefundResult, get_provider
from veza.events import emit
from veza.tasks import enqueue_on_commit, inside_transaction

logger = logging.getLogger(__name__)

NOTIFY_TASK = "payments.tasks.send_refund_notification"
REFUNDABLE = frozenset({Order.Status.COMPLETED, Order.Status.PARTIALLY_REFUNDED})


# --- phase 1: open ------------------------------------------------------------------------
def _items_to_refund(*, order: Order, user, item_ids, as_staff: bool) -> list[OrderItem]:
    """The items a refund covers: those named, or every item not yet refunded.

    A seller (neither the buyer nor an admin) may only name its own items, and without a
    list gets its own. Unknown, foreign or already refunded items are refused as a whole.
    """
    items = list(order.items.all())
    seller_only = not as_staff and not (user.is_admin or order.buyer_id == user.pk)
    mine = [i for i in items if not seller_only or i.seller_id == user.pk]
    if item_ids is None:
        chosen = [i for i in mine if not i.refunded]
        if not chosen:
            raise errors.InvalidRefundItems("Every item of this order is already refunded.")
        return chosen
    by_id = {str(i.pk): i for i in mine}
    wanted = [str(ident) for ident in item_ids]
    if not wanted or len(set(wanted)) != len(wanted):
        raise errors.InvalidRefundItems("Name each item to refund once.")
    unknown = [ident for ident in wanted if ident not in by_id]
    if unknown:
        raise errors.InvalidRefundItems(
            f"Not an item of this order that you may refund: {', '.join(unknown)}."
        )
    done = [ident for ident in wanted if by_id[ident].refunded]
    if done:
        raise errors.InvalidRefundItems(f"Already refunded: {', '.join(done)}.")
    return [by_id[ident] for ident in wanted]


def open_refund(
    *,
    order_id,
    requested_by,
    reason: str,
    item_ids=None,
    override_window_reason: str = "",
    as_staff: bool = False,
    request=None,
) -> Refund:
    """Create a pending refund of some items and flip the order to ``refund_pending``.

    Under the order's row lock. ``as_staff``: a staff member with ``payments.open_refund``
    opens refunds for any order; ``override_window_reason`` refunds after the window, for
    those with ``payments.override_refund_window`` only, and is audited. Both permissions are
    checked here, whoever calls.
    """
    if as_staff and not requested_by.has_perm("payments.open_refund"):
        raise errors.RefundForbidden("Opening a refund needs the payments.open_refund permission.")
    with transaction.atomic():
        order = orders.lock_order(order_id=order_id)
        if order is None:
            raise errors.OrderNotFound()
        if not as_staff and not order_rules.can_act_on_order(user=requested_by, order=order):
            raise errors.RefundForbidden()
        # Double submit first, so the error says "already in progress", not "not refundable".
        if order.status == Order.Status.REFUND_PENDING:
            raise errors.RefundAlreadyRequested()
        if order.status == Order.Status.DISPUTED:
            raise errors.OrderDisputed()
        if order.status not in REFUNDABLE:
            raise errors.OrderNotRefundable(
                f"Only a completed order can be refunded (this one is {order.status})."
            )
        if not order.hyperswitch_payment_id:
            raise errors.OrderNotRefundable("This order has no payment to refund.")
        window_expired = order_rules.refund_window_expired(order=order)
        if window_expired and not (as_staff and override_window_reason):
            raise errors.RefundWindowExpired()
        if window_expired and not requested_by.has_perm("payments.override_refund_window"):
            raise errors.WindowOverrideForbidden()
        items = _items_to_refund(
            order=order, user=requested_by, item_ids=item_ids, as_staff=as_staff
        )
        amount = sum(item.price for item in items)
        if order.refunded_amount + amount > order.total_amount:
            raise errors.InvalidRefundItems("This would refund more than the order's total.")
        # Four eyes: the API's buyer and seller refunds never wait.
        needs_approval = as_staff and (
            window_expired or amount > settings.REFUND_APPROVAL_THRESHOLD
        )
        try:
            with transaction.atomic():
                refund = Refund.objects.create(
                    order=order,
                    amount=amount,
                    currency=order.currency,
                    reason=reason,
                    requested_by=requested_by,
                    status=(
                        Refund.Status.AWAITING_APPROVAL if needs_approval else Refund.Status.PENDING
                    ),
                )
                RefundItem.objects.bulk_create(
                    RefundItem(refund=refund, order_item=item, amount=item.price) for item in items
                )
        except IntegrityError as exc:  # one pending refund per order; an item refunded once
            raise errors.RefundAlreadyRequested() from exc
        orders.mark_refund_pending(order=order)
        details = {
            "amount": refund.amount,
            "currency": refund.currency,
            "reason": reason,
            "items": [str(item.pk) for item in items],
            "via": "admin" if as_staff else "api",
        }
        if window_expired:
            details["window_override_reason"] = override_window_reason
        if needs_approval:
            details["awaiting_approval"] = True
        record(
            action="refund.requested",
            actor=requested_by,
            target=refund,
            request=request,
            details=details,
        )
        _notify(refund, "opened")
    refund_transitions.labels(status=str(refund.status)).inc()
    return refund


# --- phase 2: the provider, outside any transaction ---------------------------------------
@dataclass(frozen=True)
class Submission:
    refund: Refund
    accepted: bool  # the provider holds the refund (its id is stored)
    message: str


def submit_refund(*, refund: Refund) -> Submission:
    """Ask the provider to refund. Never inside a transaction; never marks success.

    - accepted → store the provider id, stay pending (only the webhook is authoritative);
    - definite refusal → the refund fails and the order is completed again (raises 502);
    - unknown outcome → look it up by our id; still unknown → stay pending, no provider id.
    """
    if inside_transaction():
        raise RuntimeError("submit_refund must not run inside a transaction.")
    if refund.status == Refund.Status.AWAITING_APPROVAL:
        return Submission(
            refund=refund,
            accepted=False,
            message=(
                "The refund is awaiting approval: a second Finance member must approve it "
                "before the payment provider is asked."
            ),
        )
    provider = get_provider()
    order = refund.order
    try:
        result = provider.create_refund(
            payment_id=order.hyperswitch_payment_id,
            refund_id=str(refund.pk),
            amount=refund.amount,
            reason=refund.reason or "requested_by_customer",
            order_id=str(order.pk),
        )
    except ProviderError as exc:
        result = _settle_uncertain_create(provider, refund, exc)
        if result is None:
            logger.warning("refund %s: outcome unknown (%s), left pending", refund.pk, exc.message)
            return Submission(
                refund=refund,
                accepted=False,
                message=(
                    "The refund request is pending: the payment provider did not confirm it "
                    "yet. It will be settled automatically."
                ),
            )

    _record_provider_id(refund=refund, provider_refund_id=result.refund_id)
    provider.on_recorded(refund_id=result.refund_id)
    return Submission(
        refund=refund,
        accepted=True,
        message=(
            "The refund has been requested. It will be confirmed by the payment provider; "
            "follow its status on the refund."
        ),
    )


def _settle_uncertain_create(provider, refund: Refund, exc: ProviderError) -> RefundResult | None:
    """After a failed create: is the refund at the provider? Returns it, None if unknowable.

    A 4xx other than a duplicate is definite, but the provider also answers 400 to a
    duplicate ``refund_id`` (a retry of one it holds): the lookup tells them apart.
    """
    try:
        return provider.get_refund(str(refund.pk))
    except ProviderError as lookup:
        if lookup.not_found:
            message = exc.message if not exc.outcome_unknown else lookup.message
            apply_refund_status(
                refund_id=refund.pk,
                status=Refund.Status.FAILED,
                error_message=message,
                source="provider",
            )
            raise errors.ProviderRefused(
                f"The payment provider refused the refund: {message}"
            ) from exc
        if exc.outcome_unknown or lookup.outcome_unknown:
            return None
        apply_refund_status(
            refund_id=refund.pk,
            status=Refund.Status.FAILED,
            error_message=exc.message,
            source="provider",
        )
        raise errors.ProviderRefused(
            f"The payment provider refused the refund: {exc.message}"
        ) from exc


def _record_provider_id(*, refund: Refund, provider_refund_id: str) -> None:
    with transaction.atomic():
        locked = Refund.objects.select_for_update().get(pk=refund.pk)
        if locked.provider_refund_id is None:
            locked.provider_refund_id = provider_refund_id
            locked.save(update_fields=["provider_refund_id", "updated_at"])
        refund.provider_refund_id = locked.provider_refund_id


def request_refund(
    *,
    order_id,
    requested_by,
    reason: str,
    item_ids=None,
    override_window_reason: str = "",
    as_staff: bool = False,
    request=None,
) -> Submission:
    """The use case of the API and of the admin's "refund" action alike: open, then submit."""
    refund = open_refund(
        order_id=order_id,
        requested_by=requested_by,
        reason=reason,
        item_ids=item_ids,
        override_window_reason=override_window_reason,
        as_staff=as_staff,
        request=request,
    )
    return submit_refund(refund=refund)


# --- four eyes: a second Finance member decides -------------------------------------------
def _decide(*, refund_id, user) -> Refund:
    """Lock a refund awaiting approval and check that ``user`` is not its requester.

    The callers audit a refusal after the transaction, so it survives the rollback.
    """
    if not user.has_perm("payments.approve_refund"):
        raise errors.RefundForbidden(
            "Deciding on a refund needs the payments.approve_refund permission."
        )
    refund = Refund.objects.select_for_update().filter(pk=refund_id).first()
    if refund is None:
        raise errors.RefundNotFound()
    if refund.status != Refund.Status.AWAITING_APPROVAL:
        raise errors.RefundNotAwaitingApproval(
            f"This refund is {refund.get_status_display().lower()}, not awaiting approval."
        )
    if refund.requested_by_id is not None and refund.requested_by_id == user.pk:
        raise errors.OwnRefundApproval()
    return refund


@contextmanager
def _refusal_recorded(*, refund_id, user, decision: str, request):
    """A refused decision (one's own refund, not awaiting approval) is audited, outside the
    transaction it rolled back, and raised on."""
    try:
        yield
    except (
        errors.OwnRefundApproval,
        errors.RefundNotAwaitingApproval,
        errors.RefundNotFound,
        errors.RefundForbidden,
    ) as exc:
        record(
            action="refund.decision_refused",
            actor=user,
            target_type="payments.refund",
            target_id=str(refund_id),
            request=request,
            details={"decision": decision, "reason": str(exc.detail)},
        )
        raise


def approve_refund(*, refund_id, approved_by, request=None) -> Submission:
    """The second pair of eyes says yes: the refund goes on to the provider (phase 2)."""
    refusal = _refusal_recorded(
        refund_id=refund_id, user=approved_by, decision="approve", request=request
    )
    with refusal, transaction.atomic():
        refund = _decide(refund_id=refund_id, user=approved_by)
        refund.status = Refund.Status.PENDING
        refund.save(update_fields=["status", "updated_at"])
        record(
            action="refund.approved",
            actor=approved_by,
            target=refund,
            request=request,
            details={
                "amount": refund.amount,
                "currency": refund.currency,
                "requested_by": str(refund.requested_by_id or ""),
            },
        )
    refund_transitions.labels(status="pending").inc()
    # Outside the transaction: the provider call must never hold the refund's lock.
    return submit_refund(refund=Refund.objects.select_related("order").get(pk=refund.pk))


def reject_refund(*, refund_id, rejected_by, reason: str, request=None) -> Refund:
    """The second pair of eyes says no: the order goes back exactly as after a failed refund."""
    refusal = _refusal_recorded(
        refund_id=refund_id, user=rejected_by, decision="reject", request=request
    )
    with refusal, transaction.atomic():
        refund = _decide(refund_id=refund_id, user=rejected_by)
        order = orders.lock_order(order_id=refund.order_id)
        refund.status = Refund.Status.REJECTED
        refund.error_message = f"Rejected: {reason}"[:2000]
        # Ended without money moving, as a failed refund: the API's ``failed_at`` says when.
        refund.failed_at = timezone.now()
        refund.save(update_fields=["status", "error_message", "failed_at", "updated_at"])
        refund.refund_items.update(active=False)  # the items may be refunded again
        orders.restore_order(order=order)
        record(
            action="refund.rejected",
            actor=rejected_by,
            target=refund,
            request=request,
            details={
                "amount": refund.amount,
                "currency": refund.currency,
                "reason": reason,
                "requested_by": str(refund.requested_by_id or ""),
            },
        )
    refund_transitions.labels(status="rejected").inc()
    return refund


# --- phase 3: the terminal state ----------------------------------------------------------
def _lock_refund(*, refund_id=None, provider_refund_id: str | None = None) -> Refund | None:
    """The refund and its order, locked by one statement: PostgreSQL takes the row locks in
    the order of the query's tables, the refund's first, then its order's."""
    candidates = Refund.objects.select_related("order").select_for_update(of=("self", "order"))
    if provider_refund_id:
        refund = candidates.filter(provider_refund_id=provider_refund_id).first()
        if refund is not None:
            return refund
    for ident in (refund_id, provider_refund_id):
        try:
            pk = uuid.UUID(str(ident)) if ident else None
        except ValueError:
            pk = None
        if pk is not None:
            refund = candidates.filter(pk=pk).first()
            if refund is not None:
                return refund
    return None


def apply_refund_status(
    *,
    status: Refund.Status,
    refund_id=None,
    provider_refund_id: str | None = None,
    error_message: str = "",
    source: str = "webhook",
) -> tuple[EventOutcome, Refund | None]:
    """Apply a provider status to a refund: the webhook's, reconciliation's and refusals' path.

    ``status`` is ours (the providers translate theirs). Locks the refund, then its order,
    then the sellers' balances by primary key, all in one transaction; idempotent.
    """
    # No savepoint of its own inside a caller's transaction (the webhook's): a failure here
    # aborts that whole transaction anyway, and nothing is caught in between.
    with transaction.atomic(savepoint=False):
        refund = _lock_refund(refund_id=refund_id, provider_refund_id=provider_refund_id)
        if refund is None:
            return EventOutcome.IGNORED, None
        if refund.is_terminal:
            return EventOutcome.DUPLICATE, refund  # a terminal row is never changed again
        if refund.status == Refund.Status.AWAITING_APPROVAL:
            return EventOutcome.IGNORED, refund  # never sent: no provider status can apply
        if status not in Refund.TERMINAL:
            return EventOutcome.IGNORED, refund  # pending, processing, review: nothing to do
        order = refund.order
        now = timezone.now()
        if provider_refund_id and refund.provider_refund_id is None:
            refund.provider_refund_id = provider_refund_id
        if status == Refund.Status.SUCCEEDED:
            _finalise_success(refund=refund, order=order, now=now)
        else:
            refund.status = Refund.Status.FAILED
            refund.failed_at = now
            refund.error_message = (error_message or "The payment provider refused the refund.")[
                :2000
            ]
            refund.save(update_fields=TERMINAL_FIELDS)
            refund.refund_items.update(active=False)  # the items may be refunded again
            orders.restore_order(order=order)
        record(
            action=f"refund.{refund.status}",
            target=refund,
            details={"source": source, "order_id": str(order.pk), "error": refund.error_message},
        )
        _notify(refund, str(refund.status))
        emit(f"refund.{refund.status}", refund)
        transaction.on_commit(lambda: refund_transitions.labels(status=str(refund.status)).inc())
    return EventOutcome.PROCESSED, refund


TERMINAL_FIELDS = [
    "status",
    "succeeded_at",
    "failed_at",
    "error_message",
    "provider_refund_id",
    "updated_at",
]


def _finalise_success(*, refund: Refund, order: Order, now) -> None:
    """Items refunded, their licences revoked, each seller debited its share of them."""
    refund.status = Refund.Status.SUCCEEDED
    refund.succeeded_at = now
    refund.error_message = ""
    refund.save(update_fields=TERMINAL_FIELDS)
    # Every item of the order in one read, under the order's lock, each flagged when this
    # refund covers it; kept on the order, where the outgoing webhook finds its parties.
    prefetch_related_objects(
        [order],
        Prefetch(
            "items",
            queryset=OrderItem.objects.annotate(
                in_refund=Exists(
                    RefundItem.objects.filter(refund=refund, order_item=OuterRef("pk"))
                )
            ),
        ),
    )
    order_items = list(order.items.all())
    items = [item for item in order_items if item.in_refund]
    orders.refund_items(
        order=order, items=items, amount=refund.amount, now=now, order_items=order_items
    )

    # Pending first, then available; what is missing becomes the seller's debt.
    shares = shares_by_seller(items)
    balances = ledger.lock_balances(seller_ids=shares.keys(), currency=order.currency)
    ledger.debit_sellers(
        balances=balances,
        kind=LedgerEntry.Kind.REFUND_DEBIT,
        amounts=shares,
        order=order,
        refund=refund,
    )
    reduce_transfers(order=order, shares=shares, now=now)


def reduce_transfers(*, order: Order, shares: dict[str, int], now) -> None:
    """Each seller's transfer of the order keeps what still stands; reversed at zero.

    One UPDATE, each row locked by it and computed from its current amount (a ``CASE`` per
    seller; portable SQL, no ``GREATEST``). The other writers of these rows either hold the
    order's lock too (release, disputes) or lock one seller's transfers (a payout), which
    share at most one row with one order's: no lock cycle.
    """
    if not shares:
        return
    covers = {
        seller_id: Q(seller_id=seller_id, amount__gt=share) for seller_id, share in shares.items()
    }
    SellerTransfer.objects.filter(order=order, seller_id__in=list(shares)).update(
        amount=Case(
            *(When(covers[s], then=F("amount") - share) for s, share in shares.items()),
            default=Value(0),
            output_field=models.BigIntegerField(),
        ),
        status=Case(
            *(When(covers[s], then=F("status")) for s in shares),
            default=Value(SellerTransfer.Status.REVERSED),
            output_field=models.CharField(),
        ),
        updated_at=now,
    )


def _notify(refund: Refund, event: str) -> None:
    # By name: the task module imports this one.
    enqueue_on_commit(NOTIFY_TASK, refund_id=str(refund.pk), event=event)


# --- reconciliation -----------------------------------------------------------------------


__all__ = [
    "apply_refund_status",
    "approve_refund",
    "reject_refund",
    "open_refund",
    "request_refund",
    "submit_refund",
]
