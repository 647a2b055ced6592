"""Staff's internal notes on refunds, disputes and payouts: written once, never edited, each
one audited."""

from django.db import transaction

from audit.services import record
from payments.models import Dispute, DisputeNote, Payout, PayoutNote, Refund, RefundNote


def _add(note_model, subject_name: str, subject, *, author, text: str, request):
    with transaction.atomic():
        note = note_model.objects.create(**{subject_name: subject}, author=author, text=text)
        record(
            action=f"{subject_name}.note_added",
            actor=author,
            target=subject,
            request=request,
            details={"note_id": str(note.pk), "text": text[:500]},
        )
    return note


def add_refund_note(*, refund: Refund, author, text: str, request=None) -> RefundNote:
    return _add(RefundNote, "refund", refund, author=author, text=text, request=request)


def add_dispute_note(*, dispute: Dispute, author, text: str, request=None) -> DisputeNote:
    return _add(DisputeNote, "dispute", dispute, author=author, text=text, request=request)


def add_payout_note(*, payout: Payout, author, text: str, request=None) -> PayoutNote:
    return _add(PayoutNote, "payout", payout, author=author, text=text, request=request)
