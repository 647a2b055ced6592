"""Reads of the payments app: refunds, balances, transfers, and the "stuck refund" rule."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from audit.models import AuditLog
from marketplace.selectors import can_act_on_order
from payments.models import (
    Dispute,
    DisputeNote,
    LedgerEntry,
    Payout,
    PayoutMethod,
    PayoutNote,
    Refund,
    RefundNote,
    SellerBalance,
    SellerTransfer,
    WebhookEvent,
)


def stuck_refunds():
    """Pending for longer than REFUND_RECONCILE_AFTER: the one rule for the console, the
    overview, the command and the reconciliation task."""
    cutoff = timezone.now() - timedelta(seconds=settings.REFUND_RECONCILE_AFTER)
    return Refund.objects.filter(status=Refund.Status.PENDING, created_at__lte=cutoff)


def refund_visible_to(*, user, pk) -> Refund | None:
    """A refund its viewer may see (buyer, a seller of the order, admin); None otherwise."""
    refund = (
        Refund.objects.select_related("order")
        .prefetch_related("refund_items")
        .filter(pk=pk)
        .first()
    )
    if refund is None or not can_act_on_order(user=user, order=refund.order):
        return None
    return refund


def refunds_of_orders():
    """The queryset an order's JSON and admin page list as its refunds, newest first."""
    return Refund.objects.prefetch_related("refund_items").order_by("-created_at")


def disputes_of_orders():
    return Dispute.objects.order_by("-opened_at")


def dispute_visible_to(*, user, pk) -> Dispute | None:
    """A dispute its viewer may see (buyer, a seller of the order, admin); None otherwise."""
    dispute = Dispute.objects.select_related("order").filter(pk=pk).first()
    if dispute is None or not can_act_on_order(user=user, order=dispute.order):
        return None
    return dispute


def seller_balances(*, seller) -> list[SellerBalance]:
    return list(SellerBalance.objects.filter(seller=seller).order_by("currency"))


def _amounts(balance: SellerBalance | None, currency: str) -> dict:
    return {
        "currency": currency,
        "available": balance.available if balance else 0,
        "pending": balance.pending if balance else 0,
        "held": balance.held if balance else 0,
        "debt": balance.debt if balance else 0,
    }


def next_payout_at():
    """The next run of PAYOUT_SCHEDULE (a crontab), or None when payouts are not scheduled."""
    schedule = getattr(settings, "PAYOUT_SCHEDULE_CRONTAB", None)
    if schedule is None:
        return None
    now = timezone.now()
    # A crontab fires on whole minutes; Celery's estimate is off by the microseconds of now.
    estimate = now + schedule.remaining_estimate(now)
    return (estimate + timedelta(seconds=30)).replace(second=0, microsecond=0)


def balance_summary(*, seller, currency: str) -> dict:
    """The seller's four amounts in ``currency`` (zeros when it has none), and every currency."""
    balances = seller_balances(seller=seller)
    current = next((b for b in balances if b.currency == currency), None)
    return {
        **_amounts(current, currency),
        "next_payout_at": next_payout_at(),
        "balances": [_amounts(b, b.currency) for b in balances],
    }


def transfers_of(*, seller):
    return SellerTransfer.objects.filter(seller=seller)


def payouts_visible_to(*, user):
    """The caller's payouts; an admin sees every seller's."""
    payouts = Payout.objects.order_by("-created_at")
    return payouts if user.is_admin else payouts.filter(seller=user)


def statement_seller(*, user, seller_id=None):
    """Whose statement: the caller's own, or (admins only) the seller named by id."""
    if not seller_id or str(seller_id) == str(user.pk):
        return user
    if not user.is_admin:
        return None
    try:
        return User.objects.filter(pk=seller_id).first()
    except (ValueError, ValidationError):
        return None


TIMELINE_LIMIT = 200  # per source: a busy seller's page shows its latest history


def timeline(
    *,
    refund_ids=(),
    order_id=None,
    dispute_ids=(),
    payout_ids=(),
    seller_id=None,
    currency: str | None = None,
    limit: int = TIMELINE_LIMIT,
) -> list[dict]:
    """One chronological list of what happened to refunds, an order, disputes, payouts or a
    seller: audit entries, provider webhook events, ledger entries and staff's internal notes
    about them, oldest first. Each source gives at most its ``limit`` latest entries.

    A seller's timeline (``seller_id``, optionally one ``currency``) is its ledger, the audit
    entries about it and its payout method, and the webhook events and notes of ``payout_ids``.
    """
    refund_ids, dispute_ids, payout_ids = list(refund_ids), list(dispute_ids), list(payout_ids)
    refs = [str(ident) for ident in refund_ids]
    targets = refs + [str(i) for i in dispute_ids + payout_ids]
    if order_id:
        targets.append(str(order_id))
    if seller_id:
        targets.append(str(seller_id))
        targets += [
            str(pk)
            for pk in PayoutMethod.objects.filter(seller_id=seller_id).values_list("pk", flat=True)
        ]

    audit = AuditLog.objects.filter(target_id__in=targets) if targets else AuditLog.objects.none()
    events = _webhook_events(
        refund_ids=refund_ids,
        refs=refs,
        order_id=order_id,
        dispute_ids=dispute_ids,
        payout_ids=payout_ids,
    )
    ledger = LedgerEntry.objects.none()
    for field, values in (
        ("refund_id__in", refund_ids),
        ("dispute_id__in", dispute_ids),
        ("payout_id__in", payout_ids),
    ):
        if values:
            ledger = ledger | LedgerEntry.objects.filter(**{field: values})
    if order_id:
        ledger = ledger | LedgerEntry.objects.filter(order_id=order_id)
    if seller_id:
        mine = LedgerEntry.objects.filter(seller_id=seller_id)
        ledger = ledger | (mine.filter(currency=currency) if currency else mine)
    notes = [
        (RefundNote.objects.filter(refund_id__in=refund_ids), "refund"),
        (DisputeNote.objects.filter(dispute_id__in=dispute_ids), "dispute"),
        (PayoutNote.objects.filter(payout_id__in=payout_ids), "payout"),
    ]

    items = [
        {"when": e.created_at, "source": "audit", "entry": e}
        for e in audit.select_related("actor").order_by("-created_at")[:limit]
    ]
    items += [
        {"when": e.received_at, "source": "webhook", "entry": e}
        for e in events.distinct().order_by("-received_at")[:limit]
    ]
    items += [
        {"when": e.created_at, "source": "ledger", "entry": e}
        for e in ledger.distinct().select_related("seller").order_by("-created_at")[:limit]
    ]
    for queryset, about in notes:
        items += [
            {"when": n.created_at, "source": "note", "entry": n, "about": about}
            for n in queryset.select_related("author").order_by("-created_at")[:limit]
        ]
    return sorted(items, key=lambda item: item["when"])


def _webhook_events(*, refund_ids, refs, order_id, dispute_ids, payout_ids):
    """The provider's notifications about these objects. A dispute event is stored with its
    order; a payout event names the payout in its detail."""
    events = WebhookEvent.objects.none()
    if refund_ids:
        provider_ids = list(
            Refund.objects.filter(pk__in=refund_ids)
            .exclude(hyperswitch_refund_id=None)
            .values_list("hyperswitch_refund_id", flat=True)
        )
        events = (
            events
            | WebhookEvent.objects.filter(refund_id__in=refund_ids)
            | WebhookEvent.objects.filter(refund_ref__in=refs + provider_ids)
        )
    if order_id:
        events = events | WebhookEvent.objects.filter(order_id=order_id)
    if dispute_ids:
        order_ids = Dispute.objects.filter(pk__in=dispute_ids).values("order_id")
        events = events | WebhookEvent.objects.filter(
            kind=WebhookEvent.Kind.DISPUTE, order_id__in=order_ids
        )
    if payout_ids:
        payouts = Payout.objects.filter(pk__in=payout_ids).values_list(
            "pk", "provider_payout_id", "created_at"
        )
        about_payouts = Q()
        for pk, provider_id, created_at in payouts:
            mentioned = Q(detail__startswith=f"payout {pk} ")
            if provider_id and provider_id != str(pk):
                mentioned |= Q(detail__startswith=f"payout {provider_id} ")
            about_payouts |= mentioned & Q(received_at__gte=created_at)
        if about_payouts:
            events = events | WebhookEvent.objects.filter(
                about_payouts, kind=WebhookEvent.Kind.PAYOUT
            )
    return events
