"""Arranging a balance in tests: one adjustment posted through the ledger's own rules."""

from django.db import transaction

from payments import ledger
from payments.models import LedgerEntry


def post_entry(*, seller, currency: str, kind: str, amount: int, **links) -> LedgerEntry:
    """Lock one seller's balance and post one adjustment: credits to available, debits from
    available then pending (the debt rule: the rest as debt)."""
    with transaction.atomic():
        balance = ledger.lock_balances(seller_ids=[seller.pk], currency=currency)[str(seller.pk)]
        if amount >= 0:
            return ledger.credit(
                balance=balance, kind=kind, amount=amount, into="available", **links
            )[0]
        ledger.debit(
            balance=balance,
            kind=kind,
            amount=-amount,
            order_of=("available", "pending"),
            **links,
        )
        return LedgerEntry.objects.filter(seller=seller).order_by("-created_at", "-pk").first()
