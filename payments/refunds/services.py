"""The refund workflow.

1. ``open_refund``: a short transaction under the order's row lock creates a pending refund.
2. ``submit_refund``: the provider call, outside any transaction, with our refund id as the
   provider's ``refund_id`` so that a retry can never refund twice.
3. ``payments.refunds.settle.apply_refund_status``: the terminal state, from the webhook or
   reconciliation. Staff refunds that need a second pair of eyes wait in
   ``payments.refunds.approvals`` between 1 and 2.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction

from audit.services import record
from marketplace import selectors as order_rules
from marketplace import services as orders
from marketplace.models import Order, OrderItem
from payments import errors
from payments.metrics import refund_transitions
from payments.models import Refund, RefundItem
from payments.providers import ProviderError, RefundResult, get_provider
from payments.refunds.settle import apply_refund_status, notify
from veza.tasks import inside_transaction

logger = logging.getLogger(__name__)

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
        # What the buyer paid for the items: the VAT goes back too (from the platform's side;
        # the sellers are debited only their shares of the net, at settlement).
        amount = sum(item.gross for item in items)
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
                    RefundItem(refund=refund, order_item=item, amount=item.gross) for item in items
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
        notify(refund, "opened")
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


# --- phase 3: the terminal state ----------------------------------------------------------


# --- reconciliation -----------------------------------------------------------------------
