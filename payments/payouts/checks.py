"""Consistency of payouts with the ledger, for ``manage.py check_ledger``."""

from collections import defaultdict

from payments.models import LedgerEntry, Payout, SellerTransfer


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
