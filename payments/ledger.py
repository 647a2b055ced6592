"""The seller ledger: one function moves a balance, under its row lock, with an entry."""

from django.db import IntegrityError, transaction

from payments.models import LedgerEntry, SellerBalance


def lock_balances(*, seller_ids, currency: str) -> dict:
    """Create missing balances, then lock them all in primary-key order (no deadlocks)."""
    for seller_id in sorted({str(s) for s in seller_ids}):
        if not SellerBalance.objects.filter(seller_id=seller_id, currency=currency).exists():
            try:
                with transaction.atomic():
                    SellerBalance.objects.create(seller_id=seller_id, currency=currency)
            except IntegrityError:
                pass  # created concurrently: fine, we lock it below
    balances = (
        SellerBalance.objects.select_for_update()
        .filter(seller_id__in=list(seller_ids), currency=currency)
        .order_by("pk")
    )
    return {str(balance.seller_id): balance for balance in balances}


def apply_entry(
    *,
    balance: SellerBalance,
    kind: str,
    amount: int,
    order=None,
    refund=None,
) -> LedgerEntry:
    """Move ``balance`` by ``amount`` (signed) and append the entry; the caller holds the lock.

    Debits clamp at zero: the entry records what was asked and what was really taken. The
    arithmetic is done on the locked row, so it is portable (no GREATEST) and exact.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("apply_entry must run inside a transaction holding the balance lock.")
    applied = amount if amount >= 0 else -min(-amount, balance.available)
    balance.available += applied
    balance.save(update_fields=["available", "updated_at"])
    return LedgerEntry.objects.create(
        seller_id=balance.seller_id,
        order=order,
        refund=refund,
        kind=kind,
        currency=balance.currency,
        requested_amount=amount,
        applied_amount=applied,
        balance_after=balance.available,
    )


def post_entry(*, seller, currency: str, kind: str, amount: int, order=None, refund=None):
    """Lock one seller's balance and apply one entry, in one transaction."""
    with transaction.atomic():
        balance = lock_balances(seller_ids=[seller.pk], currency=currency)[str(seller.pk)]
        return apply_entry(balance=balance, kind=kind, amount=amount, order=order, refund=refund)


def ledger_differences() -> list[dict]:
    """Every balance whose amount differs from the sum of its applied entries."""
    from django.db.models import Sum

    sums = {
        (str(row["seller_id"]), row["currency"]): row["total"] or 0
        for row in LedgerEntry.objects.values("seller_id", "currency").annotate(
            total=Sum("applied_amount")
        )
    }
    problems = []
    seen = set()
    for balance in SellerBalance.objects.all():
        key = (str(balance.seller_id), balance.currency)
        seen.add(key)
        expected = sums.get(key, 0)
        if balance.available != expected:
            problems.append(
                {
                    "seller_id": key[0],
                    "currency": key[1],
                    "balance": balance.available,
                    "entries": expected,
                }
            )
    for key, total in sums.items():
        if key not in seen and total != 0:
            problems.append(
                {"seller_id": key[0], "currency": key[1], "balance": None, "entries": total}
            )
    return problems
