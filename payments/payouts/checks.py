"""Consistency of payouts and transfers with the ledger, for ``manage.py check_ledger``.

A transfer is a seller's share of one order: ``pending`` inside the refund window,
``released`` once it may be paid, ``paid`` once a payout carried it, ``reversed`` when a refund
or a lost dispute took all of it back — before or after it was paid. A paid share that is
refunded later is reversed and keeps its payout: the money left, and came back as debt.
"""

from collections import defaultdict

from django.db.models import Q

from payments.models import LedgerEntry, Payout, SellerTransfer

Status = SellerTransfer.Status

# Where a transfer of each status may stand: which payouts may carry it (None: no payout).
CARRIERS = {
    Status.PENDING: {None},
    Status.RELEASED: {None, Payout.Status.PENDING},
    Status.PAID: {Payout.Status.PAID},
    Status.REVERSED: {None, Payout.Status.PENDING, Payout.Status.PAID},
}


def payout_differences() -> list[dict]:
    """Payouts whose ledger entries disagree with their status, and transfers out of step
    with their payout.

    - every payout has one ``payout`` entry of −amount, a failed or reversed one also a
      ``payout_return`` of +amount;
    - a pending transfer is in no payout; a released one in none or a pending one (a payout
      that fails or is reversed lets its shares go, for the next payout to carry);
    - a paid transfer is in a paid payout, and a paid payout's transfers are paid or reversed;
    - a reversed transfer has nothing left standing (amount 0).
    """
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
    # Written without negating the join: NOT over an outer join's NULL filters nothing.
    misplaced = ~Q(status__in=list(CARRIERS)) | Q(status=Status.REVERSED, amount__gt=0)
    for status, carriers in CARRIERS.items():
        elsewhere = [s for s in Payout.Status.values if s not in carriers]
        misplaced |= Q(status=status, payout__status__in=elsewhere)
        if None not in carriers:
            misplaced |= Q(status=status, payout__isnull=True)
    problems.extend(
        {
            "transfer_id": str(t.pk),
            "status": t.status,
            "amount": t.amount,
            "payout_id": str(t.payout_id) if t.payout_id else None,
            "payout_status": t.payout.status if t.payout_id else None,
        }
        for t in SellerTransfer.objects.filter(misplaced).select_related("payout").order_by("pk")
    )
    return problems
