"""What happened to refunds, an order, disputes, payouts or a seller, as one timeline."""

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from django.db.models import Q

from audit.models import AuditLog
from payments.models import (
    Dispute,
    DisputeNote,
    LedgerEntry,
    Payout,
    PayoutMethod,
    PayoutNote,
    Refund,
    RefundNote,
    WebhookEvent,
)

TIMELINE_LIMIT = 200  # per source: a busy seller's page shows its latest history


@dataclass(frozen=True)
class AuditItem:
    when: datetime
    entry: AuditLog
    source: ClassVar[str] = "audit"


@dataclass(frozen=True)
class WebhookItem:
    when: datetime
    entry: WebhookEvent
    source: ClassVar[str] = "webhook"


@dataclass(frozen=True)
class LedgerItem:
    when: datetime
    entry: LedgerEntry
    source: ClassVar[str] = "ledger"


@dataclass(frozen=True)
class NoteItem:
    when: datetime
    entry: RefundNote | DisputeNote | PayoutNote
    about: str  # "refund", "dispute", "payout"
    source: ClassVar[str] = "note"


TimelineItem = AuditItem | WebhookItem | LedgerItem | NoteItem


def timeline(
    *,
    refund_ids=(),
    order_id=None,
    dispute_ids=(),
    payout_ids=(),
    seller_id=None,
    currency: str | None = None,
    limit: int = TIMELINE_LIMIT,
) -> list[TimelineItem]:
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

    items: list[TimelineItem] = [
        AuditItem(when=e.created_at, entry=e)
        for e in audit.select_related("actor").order_by("-created_at")[:limit]
    ]
    items += [
        WebhookItem(when=e.received_at, entry=e)
        for e in events.distinct().order_by("-received_at")[:limit]
    ]
    items += [
        LedgerItem(when=e.created_at, entry=e)
        for e in ledger.distinct().select_related("seller").order_by("-created_at")[:limit]
    ]
    for queryset, about in notes:
        items += [
            NoteItem(when=n.created_at, entry=n, about=about)
            for n in queryset.select_related("author").order_by("-created_at")[:limit]
        ]
    return sorted(items, key=lambda item: item.when)


def _webhook_events(*, refund_ids, refs, order_id, dispute_ids, payout_ids):
    """The provider's notifications about these objects. A dispute event is stored with its
    order; a payout event names the payout in its detail."""
    events = WebhookEvent.objects.none()
    if refund_ids:
        provider_ids = list(
            Refund.objects.filter(pk__in=refund_ids)
            .exclude(provider_refund_id=None)
            .values_list("provider_refund_id", flat=True)
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
