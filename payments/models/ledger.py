import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class EventOutcome(models.TextChoices):
    """What applying a provider event did: the one spelling for refunds, payments and intake."""

    PROCESSED = "processed", "Processed"
    DUPLICATE = "duplicate", "Duplicate"
    IGNORED = "ignored", "Ignored"
    ERROR = "error", "Error"


class AppendOnlyQuerySet(models.QuerySet):
    """Rows that are history: no bulk update or delete, whatever the caller."""

    def update(self, **kwargs):
        raise PermissionError(f"{self.model.__name__} rows are append-only.")

    def delete(self):
        raise PermissionError(f"{self.model.__name__} rows are append-only.")


class SellerBalance(models.Model):
    """A seller's four amounts in one currency: a cache of its ledger entries, each ≥ 0.

    ``check_ledger`` proves that each amount equals the sum of its entries' deltas.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="balances"
    )
    currency = models.CharField(max_length=3)
    pending = models.BigIntegerField(default=0, help_text="Earned inside the refund window.")
    available = models.BigIntegerField(default=0, help_text="Can be paid out.")
    held = models.BigIntegerField(default=0, help_text="Frozen by open disputes.")
    debt = models.BigIntegerField(default=0, help_text="Owed back; repaid from next earnings.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["seller", "currency"], name="balance_one_per_currency"),
            models.CheckConstraint(condition=Q(available__gte=0), name="balance_not_negative"),
            models.CheckConstraint(
                condition=Q(pending__gte=0), name="balance_pending_not_negative"
            ),
            models.CheckConstraint(condition=Q(held__gte=0), name="balance_held_not_negative"),
            models.CheckConstraint(condition=Q(debt__gte=0), name="balance_debt_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.seller.username} — {self.currency}"

    @property
    def total(self) -> int:
        """What the platform owes the seller: pending + available + held − debt."""
        return self.pending + self.available + self.held - self.debt


class LedgerEntry(models.Model):
    """Append-only: every change of a SellerBalance, with its effect on each of the amounts."""

    class Kind(models.TextChoices):
        SALE_CREDIT = "sale_credit", "Sale credit"
        RELEASE = "release", "Release"
        REFUND_DEBIT = "refund_debit", "Refund debit"
        DISPUTE_HOLD = "dispute_hold", "Dispute hold"
        DISPUTE_RELEASE = "dispute_release", "Dispute release"
        DISPUTE_DEBIT = "dispute_debit", "Dispute debit"
        DEBT = "debt", "Debt"
        DEBT_RECOVERY = "debt_recovery", "Debt recovery"
        PAYOUT = "payout", "Payout"
        PAYOUT_RETURN = "payout_return", "Payout return"
        ADJUSTMENT = "adjustment", "Adjustment"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    order = models.ForeignKey(
        "marketplace.Order",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    refund = models.ForeignKey(
        "payments.Refund",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    dispute = models.ForeignKey(
        "payments.Dispute",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    payout = models.ForeignKey(
        "payments.Payout",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, db_index=True)
    currency = models.CharField(max_length=3)
    requested_amount = models.BigIntegerField(help_text="Signed: what the movement asked for.")
    applied_amount = models.BigIntegerField(
        help_text="Signed effect on the seller's total (pending + available + held − debt)."
    )
    pending_delta = models.BigIntegerField(default=0)
    available_delta = models.BigIntegerField(default=0)
    held_delta = models.BigIntegerField(default=0)
    debt_delta = models.BigIntegerField(default=0)
    balance_after = models.BigIntegerField(help_text="The seller's total after this entry.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "ledger entries"
        indexes = [
            models.Index(fields=["seller", "currency", "created_at"]),
            # The admin's ledger list: newest first, filtered by kind.
            models.Index(fields=["kind", "-created_at"], name="ledger_kind_recent_idx"),
        ]
        constraints = [
            # A sale is credited and released once per seller, a refund debited once, a
            # dispute held, released or debited once, whatever the number of deliveries or
            # of workers: the database refuses the second entry.
            models.UniqueConstraint(
                fields=["seller", "order", "kind"],
                condition=Q(kind__in=["sale_credit", "release"]),
                name="ledger_once_per_seller_order",
            ),
            models.UniqueConstraint(
                fields=["seller", "refund", "kind"],
                condition=Q(kind="refund_debit"),
                name="ledger_once_per_seller_refund",
            ),
            models.UniqueConstraint(
                fields=["seller", "dispute", "kind"],
                condition=Q(kind__in=["dispute_hold", "dispute_release", "dispute_debit"]),
                name="ledger_once_per_seller_dispute",
            ),
            models.UniqueConstraint(
                fields=["payout", "kind"],
                condition=Q(kind__in=["payout", "payout_return"]),
                name="ledger_once_per_payout",
            ),
            models.CheckConstraint(
                condition=Q(
                    applied_amount=models.F("pending_delta")
                    + models.F("available_delta")
                    + models.F("held_delta")
                    - models.F("debt_delta")
                ),
                name="ledger_applied_is_sum_of_deltas",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.applied_amount} {self.currency}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Ledger entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Ledger entries are append-only.")


class SellerTransfer(models.Model):
    """A seller's share of one order: pending → released (after the window) → paid (by a
    payout), or reversed when refunds or a lost dispute took all of it back."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RELEASED = "released", "Released"
        PAID = "paid", "Paid"
        REVERSED = "reversed", "Reversed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="transfers"
    )
    order = models.ForeignKey(
        "marketplace.Order", on_delete=models.PROTECT, related_name="transfers"
    )
    amount = models.BigIntegerField(help_text="The seller's share still standing.")
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    provider_transfer_id = models.CharField(max_length=128, null=True, blank=True, unique=True)
    released_at = models.DateTimeField(null=True, blank=True)
    payout = models.ForeignKey(
        "payments.Payout",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transfers",
        help_text="The payout that carries (or carried) this share.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "seller"])]
        constraints = [
            models.UniqueConstraint(
                fields=["seller", "order"], name="transfer_one_per_seller_order"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="transfer_not_negative"),
        ]

    def __str__(self) -> str:
        return f"Transfer {self.amount} {self.currency} → {self.seller_id}"


class Refund(models.Model):
    class Status(models.TextChoices):
        # Four-eyes: a large or out-of-window staff refund waits for a second Finance member.
        AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        REJECTED = "rejected", "Rejected"

    TERMINAL = frozenset({Status.SUCCEEDED, Status.FAILED, Status.REJECTED})
    OPEN = frozenset({Status.AWAITING_APPROVAL, Status.PENDING})

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey("marketplace.Order", on_delete=models.PROTECT, related_name="refunds")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.TextField(blank=True, max_length=1000)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    # NULL until the provider answers; UNIQUE so duplicate notifications land on one row.
    hyperswitch_refund_id = models.CharField(max_length=128, null=True, blank=True, unique=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="requested_refunds",
    )
    error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "refunds"
        ordering = ["-created_at"]
        # The admin's refund list: newest first, filtered by status.
        indexes = [models.Index(fields=["status", "-created_at"], name="refund_status_recent_idx")]
        permissions = [
            ("open_refund", "Can open a refund for an order"),
            ("sync_refund", "Can sync refunds with the payment provider"),
            ("override_refund_window", "Can refund after the refund window, with a reason"),
            ("approve_refund", "Can approve or reject a refund another staff member opened"),
        ]
        constraints = [
            # At most one refund in flight per order (waiting for approval counts), whatever
            # races the API.
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status__in=["awaiting_approval", "pending"]),
                name="refund_one_pending_per_order",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"Refund {self.id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL


class RefundItem(models.Model):
    """An order item a refund covers. While the refund is not failed the item is taken: the
    partial unique index makes the database refuse a second refund of the same item."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="refund_items")
    order_item = models.ForeignKey(
        "marketplace.OrderItem", on_delete=models.PROTECT, related_name="refund_items"
    )
    amount = models.BigIntegerField()
    active = models.BooleanField(default=True, help_text="False once the refund failed.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["order_item"],
                condition=Q(active=True),
                name="refund_item_once_while_active",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="refund_item_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.order_item_id} in {self.refund_id}"


class Dispute(models.Model):
    """A chargeback the provider reported; one row per provider ``dispute_id``."""

    class Status(models.TextChoices):
        OPENED = "opened", "Opened"
        CHALLENGED = "challenged", "Challenged"
        WON = "won", "Won"
        LOST = "lost", "Lost"
        ACCEPTED = "accepted", "Accepted"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"

    TERMINAL = frozenset(
        {Status.WON, Status.LOST, Status.ACCEPTED, Status.CANCELLED, Status.EXPIRED}
    )
    RETURNS_MONEY = frozenset({Status.WON, Status.CANCELLED})

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(
        "marketplace.Order", on_delete=models.PROTECT, related_name="disputes"
    )
    provider_dispute_id = models.CharField(max_length=128, unique=True)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPENED)
    stage = models.CharField(max_length=32, blank=True)
    reason = models.CharField(max_length=255, blank=True)
    evidence_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    order_status_before = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="dispute_not_negative"),
        ]

    def __str__(self) -> str:
        return f"Dispute {self.provider_dispute_id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL


class DisputeShare(models.Model):
    """What a dispute froze of one seller's money, and where it came from, so that a won
    dispute returns it exactly where it was."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="shares")
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="dispute_shares"
    )
    amount = models.BigIntegerField()
    from_pending = models.BigIntegerField(default=0)
    from_available = models.BigIntegerField(default=0)
    as_debt = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dispute", "seller"], name="dispute_share_once"),
        ]

    def __str__(self) -> str:
        return f"{self.seller_id}: {self.amount}"


class DisputeNote(models.Model):
    """Staff's internal note on a dispute: written once, never edited (audited)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(max_length=5000)
    created_at = models.DateTimeField(default=timezone.now)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.text[:60]


class InternalNote(models.Model):
    """Staff's internal note: written once, never edited nor deleted (each one is audited).
    No change or delete permission exists for it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(max_length=5000)
    created_at = models.DateTimeField(default=timezone.now)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["created_at"]
        default_permissions = ("add", "view")

    def __str__(self) -> str:
        return self.text[:60]

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Internal notes are never edited.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Internal notes are never deleted.")


class RefundNote(InternalNote):
    refund = models.ForeignKey(Refund, on_delete=models.PROTECT, related_name="notes")

    class Meta(InternalNote.Meta):
        pass


class WebhookEvent(models.Model):
    """Every signed notification received, with what we did with it."""

    Outcome = EventOutcome

    class Kind(models.TextChoices):
        PAYMENT = "payment", "Payment"
        REFUND = "refund", "Refund"
        DISPUTE = "dispute", "Dispute"
        PAYOUT = "payout", "Payout"
        UNKNOWN = "unknown", "Unknown"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The deduplication key: set only on the delivery that was applied, so a repeat of an
    # event_id is refused by the database, while errors stay retryable.
    event_id = models.CharField(max_length=128, null=True, blank=True, unique=True)
    provider_event_id = models.CharField(max_length=128, blank=True, db_index=True)
    event_type = models.CharField(max_length=64, blank=True, db_index=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.UNKNOWN)
    payment_id = models.CharField(max_length=128, blank=True, db_index=True)
    refund_ref = models.CharField(max_length=128, blank=True, db_index=True)
    status = models.CharField(max_length=32, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, db_index=True)
    detail = models.TextField(blank=True)
    payload = models.JSONField(default=dict)
    refund = models.ForeignKey(
        Refund, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_events"
    )
    order = models.ForeignKey(
        "marketplace.Order",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="webhook_events",
    )
    source = models.CharField(max_length=16, default="webhook")
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    # How many times the provider delivered this event_id: a replay adds one here (one
    # UPDATE) instead of a row of its own. Always 1 on rows without an event_id.
    deliveries = models.PositiveIntegerField(default=1)
    last_delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.event_type or '?'} {self.outcome}"

    @property
    def duplicate_deliveries(self) -> int:
        return self.deliveries - 1


class PayoutMethod(models.Model):
    """Where a seller's payouts go (the token the provider's payout widget returned), and
    whether staff paused them. One per seller; the provider's customer id is the seller's id."""

    class Type(models.TextChoices):
        BANK = "bank", "Bank account"
        CARD = "card", "Card"
        WALLET = "wallet", "Wallet"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    seller = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payout_method"
    )
    payout_type = models.CharField(max_length=16, choices=Type.choices)
    payout_token = models.CharField(max_length=255)
    payouts_paused = models.BooleanField(default=False, help_text="Paused by staff.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.payout_type} for {self.seller_id}"


class Payout(models.Model):
    """One transfer of a seller's whole ``available`` money to its payout method.

    pending → paid | failed; paid → reversed. Nothing else ever changes a terminal payout.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PAID = "paid", "Paid"
        FAILED = "failed", "Failed"
        REVERSED = "reversed", "Reversed"

    TERMINAL = frozenset({Status.PAID, Status.FAILED, Status.REVERSED})

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payouts"
    )
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    payout_type = models.CharField(max_length=16, choices=PayoutMethod.Type.choices)
    payout_token = models.CharField(max_length=255)
    # NULL until the provider confirms it holds the payout (our id is its payout_id).
    provider_payout_id = models.CharField(max_length=128, null=True, blank=True, unique=True)
    failure_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    reversed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("manage_payouts", "Can run, retry and pause seller payouts"),
        ]
        constraints = [
            # No second payout while one is in flight, whatever races the payout run.
            models.UniqueConstraint(
                fields=["seller", "currency"],
                condition=Q(status="pending"),
                name="payout_one_pending_per_seller",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payout_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"Payout {self.id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL


class PayoutNote(InternalNote):
    payout = models.ForeignKey(Payout, on_delete=models.PROTECT, related_name="notes")

    class Meta(InternalNote.Meta):
        pass


class RefundSyncBatch(models.Model):
    """A bulk "sync with provider" from the admin, run on the worker in chunks: how far it
    got and what it found. Counters only grow, under the row's lock."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    total = models.PositiveIntegerField()
    done = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0, help_text="Refunds whose status changed.")
    unchanged = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    # The refunds whose status changed or that failed to sync (capped), for the progress page.
    results = models.JSONField(default=list, blank=True)
    # Indexes of the chunks counted: a job delivered twice (acks late) is counted once.
    chunks_done = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "refund sync batches"
        constraints = [
            models.CheckConstraint(
                condition=Q(done__lte=models.F("total")), name="refund_sync_batch_done_le_total"
            ),
        ]

    def __str__(self) -> str:
        return f"Sync of {self.total} refunds ({self.done} done)"

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None
