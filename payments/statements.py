"""A seller's statement: every ledger movement of a period, between two balances.

The balance is the seller's total (pending + available + held − debt), the ledger's
``balance_after``; an entry's amount is its ``applied_amount`` (its effect on that total), so
opening + the sum of the entries = closing, and a period that ends now closes on the balance.
"""

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import Sum

from accounts.models import User
from payments.models import LedgerEntry


@dataclass(frozen=True)
class Statement:
    currency: str
    start: datetime | None
    end: datetime | None
    opening_balance: int
    closing_balance: int
    entries: list[LedgerEntry]

    def as_dict(self) -> dict:
        return {
            "currency": self.currency,
            "from": self.start,
            "to": self.end,
            "opening_balance": self.opening_balance,
            "closing_balance": self.closing_balance,
            "entries": [
                {
                    "kind": entry.kind,
                    "amount": entry.applied_amount,
                    "order_id": entry.order_id,
                    "refund_id": entry.refund_id,
                    "dispute_id": entry.dispute_id,
                    "payout_id": entry.payout_id,
                    "created_at": entry.created_at,
                }
                for entry in self.entries
            ],
        }


def seller_statement(*, seller, currency: str, start=None, end=None) -> Statement:
    """Entries with ``start`` ≤ created_at < ``end`` (either may be open)."""
    entries = LedgerEntry.objects.filter(seller=seller, currency=currency)
    before = entries.filter(created_at__lt=start) if start else entries.none()
    opening = before.aggregate(total=Sum("applied_amount"))["total"] or 0
    period = entries
    if start:
        period = period.filter(created_at__gte=start)
    if end:
        period = period.filter(created_at__lt=end)
    rows = list(period.order_by("created_at", "pk"))
    closing = opening + sum(entry.applied_amount for entry in rows)
    return Statement(currency, start, end, opening, closing, rows)


CSV_COLUMNS = ["created_at", "kind", "amount", "order_id", "refund_id", "dispute_id", "payout_id"]


def statement_csv(statement: Statement) -> str:
    """One row per entry (amounts in minor units), framed by the opening and closing rows,
    so that a spreadsheet's sum of ``amount`` plus the opening equals the closing."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*CSV_COLUMNS, "currency"])
    writer.writerow(
        [_iso(statement.start), "opening_balance", statement.opening_balance, "", "", "", ""]
        + [statement.currency]
    )
    for entry in statement.entries:
        writer.writerow(
            [
                entry.created_at.isoformat(),
                entry.kind,
                entry.applied_amount,
                entry.order_id or "",
                entry.refund_id or "",
                entry.dispute_id or "",
                entry.payout_id or "",
                statement.currency,
            ]
        )
    writer.writerow(
        [_iso(statement.end), "closing_balance", statement.closing_balance, "", "", "", ""]
        + [statement.currency]
    )
    return out.getvalue()


def _iso(moment) -> str:
    return moment.isoformat() if moment else ""


def statement_seller(*, user, seller_id=None):
    """Whose statement: the caller's own, or (admins only) the seller named by id."""
    # Absent means the caller; an empty ?seller= names nobody (the schema wants a uuid).
    if seller_id is None or str(seller_id) == str(user.pk):
        return user
    if not user.is_admin:
        return None
    try:
        return User.objects.filter(pk=seller_id).first()
    except (ValueError, ValidationError):
        return None
