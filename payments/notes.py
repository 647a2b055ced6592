"""Staff's internal notes on refunds and payouts (disputes have theirs in ``disputes``):
written once, never edited, each one audited."""

from django.db import transaction

from audit.services import record
from payments.models import Payout, PayoutNote, Refund, RefundNote


def add_refund_note(*, refund: Refund, author, text: str, request=None) -> RefundNote:
    with transaction.atomic():
        note = RefundNote.objects.create(refund=refund, author=author, text=text)
        record(
            action="refund.note_added",
            actor=author,
            target=refund,
            request=request,
            details={"note_id": str(note.pk), "text": text[:500]},
        )
    return note


def add_payout_note(*, payout: Payout, author, text: str, request=None) -> PayoutNote:
    with transaction.atomic():
        note = PayoutNote.objects.create(payout=payout, author=author, text=text)
        record(
            action="payout.note_added",
            actor=author,
            target=payout,
            request=request,
            details={"note_id": str(note.pk), "text": text[:500]},
        )
    return note
