"""The seller ledger: every change of a seller's four amounts, under the balance's row lock.

A seller has, per currency, ``pending`` (earned on orders still inside their refund window),
``available`` (can be paid out), ``held`` (frozen by an open dispute) and ``debt`` (taken back
after the money had left; repaid first from the next earnings). Each is ≥ 0 by a database
constraint. Every change is one append-only ``LedgerEntry`` that records its effect on each
of the four, so that a balance is provably the sum of its entries (``ledger_differences``).

The arithmetic is done in Python on the locked row: portable (no ``GREATEST``) and exact.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from payments.models import LedgerEntry, SellerBalance

BUCKETS = ("pending", "available", "held", "debt")


def lock_balances(*, seller_ids, currency: str) -> dict[str, SellerBalance]:
    """Lock the sellers' balances in primary-key order (no deadlocks), creating missing ones.

    One statement when every balance exists, as it does for any seller that ever earned: the
    lock is the read. A missing one (a seller's first sale) is inserted — a balance created
    concurrently is skipped by the conflict clause — and then all are locked again in
    primary-key order (re-locking the rows already held is a no-op). That insert runs while
    the existing rows are held: two first sales that both need a new balance, and an existing
    one a third transaction created between their first reads, can deadlock; PostgreSQL then
    aborts one of them, which the provider's retry or the task's next run applies again.
    """
    seller_ids = sorted({str(s) for s in seller_ids})
    balances = _locked(seller_ids, currency)
    missing = [s for s in seller_ids if s not in balances]
    if missing:
        SellerBalance.objects.bulk_create(
            [SellerBalance(seller_id=seller_id, currency=currency) for seller_id in missing],
            ignore_conflicts=True,
        )
        balances = _locked(seller_ids, currency)
    return balances


def _locked(seller_ids: list[str], currency: str) -> dict[str, SellerBalance]:
    balances = (
        SellerBalance.objects.select_for_update()
        .filter(seller_id__in=seller_ids, currency=currency)
        .order_by("pk")
    )
    return {str(balance.seller_id): balance for balance in balances}


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Ledger moves must run inside a transaction holding the balance lock.")


def record(
    *,
    balance: SellerBalance,
    kind: str,
    requested: int,
    pending: int = 0,
    available: int = 0,
    held: int = 0,
    debt: int = 0,
    **links,
) -> LedgerEntry:
    """Apply the deltas to the locked ``balance`` and append the entry that says so.

    ``requested`` is the signed amount the movement was asked for; the entry's
    ``applied_amount`` is its effect on the seller's total (pending + available + held − debt).
    """
    _require_transaction()
    entry = _entry(
        balance=balance,
        kind=kind,
        requested=requested,
        pending=pending,
        available=available,
        held=held,
        debt=debt,
        **links,
    )
    balance.save(update_fields=[*BUCKETS, "updated_at"])
    entry.save(force_insert=True)
    return entry


def _entry(
    *,
    balance: SellerBalance,
    kind: str,
    requested: int,
    pending: int = 0,
    available: int = 0,
    held: int = 0,
    debt: int = 0,
    **links,
) -> LedgerEntry:
    """The deltas applied to ``balance`` in memory, and the (unsaved) entry that says so."""
    balance.pending += pending
    balance.available += available
    balance.held += held
    balance.debt += debt
    return LedgerEntry(
        seller_id=balance.seller_id,
        kind=kind,
        currency=balance.currency,
        requested_amount=requested,
        applied_amount=pending + available + held - debt,
        pending_delta=pending,
        available_delta=available,
        held_delta=held,
        debt_delta=debt,
        balance_after=balance.total,
        **links,
    )


@dataclass(frozen=True)
class Taken:
    """Where a debit found its money: from pending, from available, and what became debt."""

    pending: int = 0
    available: int = 0
    debt: int = 0

    @property
    def found(self) -> int:
        return self.pending + self.available


def _take(balance: SellerBalance, amount: int, *, order_of=("pending", "available")) -> Taken:
    taken = {"pending": 0, "available": 0}
    rest = amount
    for bucket in order_of:
        part = min(rest, getattr(balance, bucket))
        taken[bucket] = part
        rest -= part
    return Taken(pending=taken["pending"], available=taken["available"], debt=rest)


def credit(*, balance: SellerBalance, kind: str, amount: int, into: str = "pending", **links):
    """Earnings: credited to ``into``, then any debt is repaid from them first."""
    entries = [record(balance=balance, kind=kind, requested=amount, **{into: amount}, **links)]
    if balance.debt and amount:
        repaid = min(balance.debt, getattr(balance, into))
        if repaid:
            entries.append(
                record(
                    balance=balance,
                    kind=LedgerEntry.Kind.DEBT_RECOVERY,
                    requested=repaid,
                    **{into: -repaid},
                    debt=-repaid,
                    **links,
                )
            )
    return entries


def take_or_owe(
    balance: SellerBalance,
    *,
    kind: str,
    amount: int,
    requested: int | None = None,
    held: int = 0,
    to_held: bool = False,
    always: bool = False,
    order_of=("pending", "available"),
    **links,
) -> tuple[Taken, list[LedgerEntry]]:
    """The debt rule, written once: take ``amount`` from pending, then available; what cannot
    be taken is recorded as the seller's debt (a ``debt`` entry), repaid from its next
    earnings — nothing is clamped away, a balance never goes below zero.

    ``to_held``: what was found moves into ``held`` (a dispute freezes it); ``held``: a change
    of ``held`` recorded on the same entry (a lost dispute consumes its hold). The ``kind``
    entry is written when it moves something, or ``always`` (a dispute's history has each of
    its steps), or when no debt entry says it all. Applied to the locked ``balance`` in
    memory; the caller writes the balance and the (unsaved) entries.
    """
    taken = _take(balance, amount, order_of=order_of)
    entries = []
    moved_held = held + (taken.found if to_held else 0)
    if always or taken.found or moved_held or not taken.debt:
        entries.append(
            _entry(
                balance=balance,
                kind=kind,
                requested=-amount if requested is None else requested,
                pending=-taken.pending,
                available=-taken.available,
                held=moved_held,
                **links,
            )
        )
    if taken.debt:
        entries.append(
            _entry(
                balance=balance,
                kind=LedgerEntry.Kind.DEBT,
                requested=-taken.debt,
                debt=taken.debt,
                **links,
            )
        )
    return taken, entries


def debit(*, balance: SellerBalance, kind: str, amount: int, **options) -> Taken:
    """``take_or_owe`` on one locked balance, written: the balance and its entries."""
    _require_transaction()
    taken, entries = take_or_owe(balance, kind=kind, amount=amount, **options)
    balance.save(update_fields=[*BUCKETS, "updated_at"])
    LedgerEntry.objects.bulk_create(entries)
    return taken


def debit_sellers(
    *, balances: dict[str, SellerBalance], kind: str, amounts: dict[str, int], **links
) -> dict[str, Taken]:
    """``take_or_owe`` of several sellers at once: one UPDATE of their locked balances and
    one INSERT of all their entries."""
    _require_transaction()
    taken, entries = {}, []
    for seller_id in sorted(amounts):
        taken[seller_id], own = take_or_owe(
            balances[seller_id], kind=kind, amount=amounts[seller_id], **links
        )
        entries.extend(own)
    changed = [balances[seller_id] for seller_id in sorted(amounts)]
    now = timezone.now()
    for balance in changed:
        balance.updated_at = now  # bulk_update does not run auto_now
    SellerBalance.objects.bulk_update(changed, [*BUCKETS, "updated_at"])
    LedgerEntry.objects.bulk_create(entries)
    return taken


def hold(*, balance: SellerBalance, amount: int, **links) -> Taken:
    """A dispute freezes ``amount``: from pending, then available, the rest as debt."""
    return debit(
        balance=balance,
        kind=LedgerEntry.Kind.DISPUTE_HOLD,
        amount=amount,
        to_held=True,
        always=True,
        **links,
    )


def ledger_differences() -> list[dict]:
    """Every balance whose amounts differ from the sums of its entries' deltas."""
    sums = {
        (str(row["seller_id"]), row["currency"]): row
        for row in LedgerEntry.objects.values("seller_id", "currency").annotate(
            pending=Sum("pending_delta"),
            available=Sum("available_delta"),
            held=Sum("held_delta"),
            debt=Sum("debt_delta"),
        )
    }
    problems = []
    seen = set()
    for balance in SellerBalance.objects.all():
        key = (str(balance.seller_id), balance.currency)
        seen.add(key)
        row = sums.get(key, {})
        for bucket in BUCKETS:
            expected = row.get(bucket) or 0
            if getattr(balance, bucket) != expected:
                problems.append(
                    {
                        "seller_id": key[0],
                        "currency": key[1],
                        "bucket": bucket,
                        "balance": getattr(balance, bucket),
                        "entries": expected,
                    }
                )
    for key, row in sums.items():
        if key not in seen and any(row.get(b) for b in BUCKETS):
            problems.append(
                {"seller_id": key[0], "currency": key[1], "balance": None, "entries": row}
            )
    return problems


def seller_share(price: int) -> int:
    """What the seller earns on ``price``: the platform fee is rounded down."""
    return price - (price * settings.PLATFORM_FEE_PERCENT) // 100


def shares_by_seller(items) -> dict[str, int]:
    shares: dict[str, int] = defaultdict(int)
    for item in items:
        shares[str(item.seller_id)] += seller_share(item.price)
    return dict(shares)
