import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Product(models.Model):
    class Type(models.TextChoices):
        TRACK = "track", "Track"
        PACK = "pack", "Pack"
        SAMPLE = "sample", "Sample"
        LICENSE = "license", "License"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="products"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=5000)
    price = models.BigIntegerField(help_text="Minor units (cents).")
    currency = models.CharField(max_length=3, default="EUR")
    product_type = models.CharField(max_length=16, choices=Type.choices)
    track = models.ForeignKey(
        "tracks.Track", null=True, blank=True, on_delete=models.SET_NULL, related_name="products"
    )
    # The deliverable of a pack, sample or licence product (a track product delivers its
    # track's audio), stored through the default storage as products/<id>/<uuid>.<ext>.
    file = models.FileField(max_length=500, blank=True)
    is_active = models.BooleanField(default=True)
    # Set by a moderator's take-down (of the product, or of its track): hidden from everyone
    # but its seller and admins, and no licence of it downloads.
    taken_down_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_not_negative"),
        ]

    def __str__(self) -> str:
        return self.title


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        REFUND_PENDING = "refund_pending", "Refund pending"
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
        REFUNDED = "refunded", "Refunded"
        DISPUTED = "disputed", "Disputed"
        CHARGED_BACK = "charged_back", "Charged back"

    # Statuses of an order whose buyer has paid (a dispute may be opened on any of them).
    PAID = frozenset(
        {
            Status.COMPLETED,
            Status.REFUND_PENDING,
            Status.PARTIALLY_REFUNDED,
            Status.REFUNDED,
            Status.DISPUTED,
            Status.CHARGED_BACK,
        }
    )

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.PENDING)
    # Where a refund or a dispute found the order, so that a failure restores it exactly.
    status_before = models.CharField(max_length=32, blank=True)
    # Prices are net: the buyer pays net + VAT (the platform's liability, never a seller's).
    net_amount = models.BigIntegerField(default=0, help_text="Sum of the items' net prices.")
    vat_amount = models.BigIntegerField(default=0, help_text="Sum of the items' VAT.")
    total_amount = models.BigIntegerField(help_text="net_amount + vat_amount, minor units.")
    refunded_amount = models.BigIntegerField(
        default=0, help_text="Minor units refunded, VAT included."
    )
    # Where VAT is due: the billing country given, else the buyer's, else the default.
    billing_country = models.CharField(max_length=2, blank=True)
    tax_country = models.CharField(max_length=2, null=True, blank=True)
    vat_number = models.CharField(max_length=20, blank=True)
    # True: confirmed by VIES; False: VIES unreachable (well-formed, not confirmed); None: not
    # asked (no number, or no VIES_URL).
    vat_number_confirmed = models.BooleanField(null=True, blank=True)
    reverse_charge = models.BooleanField(default=False)
    currency = models.CharField(max_length=3)
    hyperswitch_payment_id = models.CharField(max_length=128, null=True, blank=True, unique=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    refund_deadline = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        # The admin's order list: newest first, filtered by status.
        indexes = [models.Index(fields=["status", "-created_at"], name="order_status_recent_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_amount__gte=0), name="order_total_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(total_amount=models.F("net_amount") + models.F("vat_amount")),
                name="order_total_is_net_plus_vat",
            ),
            # The refunded amount can never exceed the total, whatever races the API.
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0)
                & Q(refunded_amount__lte=models.F("total_amount")),
                name="order_refunded_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"Order {self.id}"

    @property
    def effective_refund_deadline(self):
        """The 14-day window: refund_deadline, or created_at + window when it is unset."""
        if self.refund_deadline is not None:
            return self.refund_deadline
        return self.created_at + timedelta(days=settings.REFUND_WINDOW_DAYS)


class OrderItem(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_items")
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sold_items"
    )
    price = models.BigIntegerField(help_text="Net, frozen at purchase, minor units.")
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    vat_amount = models.BigIntegerField(default=0, help_text="round_half_up(price × rate / 100)")
    currency = models.CharField(max_length=3)
    position = models.PositiveSmallIntegerField(default=0, help_text="Order of the request.")
    refunded = models.BooleanField(default=False)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["order", "product"], name="order_item_unique_product"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} in {self.order_id}"

    @property
    def gross(self) -> int:
        """What the buyer paid for this item: its net price plus its VAT."""
        return self.price + self.vat_amount


class LicenseQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True, suspended_at__isnull=True)


class License(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="licenses"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="licenses")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="licenses")
    granted_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    suspended_at = models.DateTimeField(
        null=True, blank=True, help_text="Set while a dispute on the order is open."
    )

    objects = LicenseQuerySet.as_manager()

    class Meta:
        ordering = ["-granted_at"]
        constraints = [
            models.UniqueConstraint(fields=["order", "product"], name="license_unique_per_item"),
        ]

    def __str__(self) -> str:
        return f"Licence {self.product_id} → {self.buyer_id}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.suspended_at is None


class ProductDownload(models.Model):
    """One fetch of a product's file through a signed download link: who, when, from where.
    A chargeback for a digital good is won with this access log."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="downloads")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="product_downloads"
    )
    downloaded_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)

    class Meta:
        ordering = ["-downloaded_at", "-id"]
        indexes = [
            models.Index(
                fields=["user", "product", "-downloaded_at"], name="product_download_access_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"download of {self.product_id} at {self.downloaded_at:%Y-%m-%d %H:%M}"
