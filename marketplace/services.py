"""Marketplace workflows: products, orders, licences and signed downloads.

The payments app moves the money and drives orders through the transitions at the end of this
module (complete, mark refund pending, refund items, restore); this module never imports
payments. The transitions expect the caller's transaction and the order's row lock
(``lock_order``), so that an order's status and its money change together or not at all.
"""

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Prefetch, prefetch_related_objects
from django.utils import timezone

from accounts.services import check_can_publish
from audit.services import record
from marketplace import errors, product_files, vat
from marketplace.models import License, Order, OrderItem, Product, ProductDownload
from veza import uploads
from veza.exceptions import DomainError

logger = logging.getLogger(__name__)

PRODUCT_FIELDS = ("title", "description", "price", "currency", "product_type", "track", "is_active")
DOWNLOAD_SALT = "veza.marketplace.download"


# --- products -----------------------------------------------------------------------------
def create_product(*, seller, request=None, **fields) -> Product:
    check_can_publish(seller)
    product = Product.objects.create(seller=seller, **fields)
    record(action="product.create", actor=seller, target=product, request=request)
    return product


def take_down_products(*, products, now) -> dict[str, bool]:
    """Hide products (a moderator's decision on them or on their track) and stop their sale;
    returns each product's ``is_active`` before, which ``restore_products`` puts back."""
    before = {}
    for product in (
        Product.objects.select_for_update()
        .filter(pk__in=[p.pk for p in products], taken_down_at__isnull=True)
        .order_by("pk")
    ):
        before[str(product.pk)] = product.is_active
        product.is_active = False
        product.taken_down_at = now
        product.save(update_fields=["is_active", "taken_down_at", "updated_at"])
    return before


def restore_products(*, was_active: dict[str, bool]) -> None:
    """Undo ``take_down_products``: each product listed and for sale exactly as it was."""
    for product in (
        Product.objects.select_for_update()
        .filter(pk__in=list(was_active), taken_down_at__isnull=False)
        .order_by("pk")
    ):
        product.is_active = was_active[str(product.pk)]
        product.taken_down_at = None
        product.save(update_fields=["is_active", "taken_down_at", "updated_at"])


def update_product(*, product: Product, actor, data: dict, request=None) -> Product:
    changed = [f for f in PRODUCT_FIELDS if f in data and getattr(product, f) != data[f]]
    for field in changed:
        setattr(product, field, data[field])
    if changed:
        product.save(update_fields=[*changed, "updated_at"])
        record(
            action="product.update",
            actor=actor,
            target=product,
            request=request,
            details={"fields": changed},
        )
    return product


def deactivate_product(*, product: Product, actor, request=None) -> None:
    """Products are never deleted (orders reference them): they stop being for sale."""
    if product.is_active:
        product.is_active = False
        product.save(update_fields=["is_active", "updated_at"])
    record(action="product.delete", actor=actor, target=product, request=request)


def attach_product_file(*, product: Product, upload: UploadedFile, actor, request=None) -> Product:
    """Check, scan and store the deliverable of a pack, sample or licence product, replacing
    the one it had. Nothing is stored unless every check passes; the replaced file is deleted
    once the new one is recorded."""
    if product.product_type == Product.Type.TRACK:
        raise errors.NoFileForTrackProduct()
    try:
        uploads.check_size(upload)
        file_type = product_files.detect(filename=upload.name or "", head=uploads.read_head(upload))
        if file_type is None:
            raise uploads.InvalidFile(product_files.ACCEPTED_DETAIL)
        uploads.scan(upload)  # before storing: an infected file never touches storage
    except DomainError as exc:
        uploads.uploads_failed.labels(kind="product", reason=exc.code).inc()
        raise

    # Storage.save copies the upload chunk by chunk, to the disk or the object store.
    stored_name = default_storage.save(f"products/{product.pk}/{uuid.uuid4()}.{file_type}", upload)
    try:
        with transaction.atomic():
            locked = Product.objects.select_for_update().get(pk=product.pk)
            replaced = locked.file.name
            locked.file = stored_name
            locked.save(update_fields=["file", "updated_at"])
            record(
                action="product.file",
                actor=actor,
                target=locked,
                request=request,
                details={"type": file_type, "size": upload.size},
            )
            if replaced:
                transaction.on_commit(lambda: default_storage.delete(replaced))
            transaction.on_commit(lambda: uploads.file_uploads.labels(kind="product").inc())
    except Exception:
        default_storage.delete(stored_name)
        raise
    logger.info("product %s file stored (%s, %d bytes)", product.pk, file_type, upload.size)
    product.file = locked.file
    product.updated_at = locked.updated_at
    return product


# --- orders -------------------------------------------------------------------------------
def create_order(
    *,
    buyer,
    product_ids: list,
    billing_country: str = "",
    vat_number: str = "",
    request=None,
) -> Order:
    """The order and its items, net prices frozen and the VAT of each item added at the rate
    of the buyer's country on the day (``marketplace.vat``); the payment is the payments app's
    business."""
    if len(set(product_ids)) != len(product_ids):
        raise errors.InvalidOrder("An order cannot list the same product twice.")
    # Before the transaction: checking a VAT number may ask VIES, a slow outside service.
    tax = vat.tax_treatment(buyer=buyer, billing_country=billing_country, vat_number=vat_number)
    with transaction.atomic():
        products = {str(p.pk): p for p in Product.objects.filter(pk__in=product_ids)}
        missing = [str(pid) for pid in product_ids if str(pid) not in products]
        if missing:
            raise errors.InvalidOrder(f"Unknown product: {', '.join(missing)}.")
        for product in products.values():
            if not product.is_active or product.taken_down_at is not None:
                raise errors.InvalidOrder(f"The product {product.pk} is not for sale.")
            if product.seller_id == buyer.pk:
                raise errors.InvalidOrder("You cannot buy your own product.")
        currencies = {p.currency for p in products.values()}
        if len(currencies) != 1:
            raise errors.InvalidOrder("All products of an order must share one currency.")
        currency = currencies.pop()
        items = [
            OrderItem(
                product=p,
                seller_id=p.seller_id,
                price=p.price,
                vat_rate=tax.rate,
                vat_amount=tax.vat_of(p.price),
                currency=currency,
                position=position,
            )
            for position, p in enumerate(products[str(pid)] for pid in product_ids)
        ]
        # The order's VAT is the sum of its items' (each rounded), not the VAT of the sum.
        net = sum(item.price for item in items)
        vat_amount = sum(item.vat_amount for item in items)
        order = Order.objects.create(
            buyer=buyer,
            currency=currency,
            net_amount=net,
            vat_amount=vat_amount,
            total_amount=net + vat_amount,
            billing_country=tax.billing_country,
            tax_country=tax.tax_country,
            vat_number=tax.vat_number,
            vat_number_confirmed=tax.vat_number_confirmed,
            reverse_charge=tax.reverse_charge,
        )
        for item in items:
            item.order = order
        OrderItem.objects.bulk_create(items)
        record(
            action="order.create",
            actor=buyer,
            target=order,
            request=request,
            details={
                "net_amount": net,
                "vat_amount": vat_amount,
                "total_amount": order.total_amount,
                "currency": currency,
                "tax_country": tax.tax_country,
                "reverse_charge": tax.reverse_charge,
            },
        )
    return order


def attach_payment(*, order: Order, payment_id: str) -> None:
    """One UPDATE, atomic by itself: no transaction around it."""
    Order.objects.filter(pk=order.pk).update(
        hyperswitch_payment_id=payment_id, updated_at=timezone.now()
    )
    order.hyperswitch_payment_id = payment_id


def abandon_order(*, order: Order) -> None:
    """The payment could not even be created: the order fails while still pending."""
    Order.objects.filter(pk=order.pk, status=Order.Status.PENDING).update(
        status=Order.Status.FAILED, updated_at=timezone.now()
    )


# --- transitions driven by the payments app (caller holds the transaction and the lock) ---
def lock_order(*, order_id=None, payment_id: str | None = None) -> Order | None:
    """The order's row lock: the first lock of every money movement on an order."""
    orders = Order.objects.select_for_update()
    if payment_id is not None:
        return orders.filter(hyperswitch_payment_id=payment_id).first()
    return orders.filter(pk=order_id).first()


def complete_order(*, order: Order, now) -> list[OrderItem]:
    """Payment succeeded: the refund window opens and each item grants its licence."""
    order.status = Order.Status.COMPLETED
    order.completed_at = now
    order.refund_deadline = now + timedelta(days=settings.REFUND_WINDOW_DAYS)
    order.save(update_fields=["status", "completed_at", "refund_deadline", "updated_at"])
    # The items in one read, with what the invoice's lines and buyer need, kept on the order
    # (prefetched), where the outgoing event finds its parties without a query of its own.
    prefetch_related_objects(
        [order],
        Prefetch("items", queryset=OrderItem.objects.select_related("product", "order__buyer")),
    )
    items = list(order.items.all())
    License.objects.bulk_create(
        License(buyer_id=order.buyer_id, product_id=item.product_id, order=order, granted_at=now)
        for item in items
    )
    record(
        action="order.completed",
        target=order,
        details={"total_amount": order.total_amount, "currency": order.currency},
    )
    return items


def fail_payment(*, order: Order) -> None:
    order.status = Order.Status.FAILED
    order.save(update_fields=["status", "updated_at"])
    record(action="order.payment_failed", target=order)


def mark_refund_pending(*, order: Order) -> None:
    order.status_before = order.status
    order.status = Order.Status.REFUND_PENDING
    order.save(update_fields=["status", "status_before", "updated_at"])


def refund_items(
    *, order: Order, items: list[OrderItem], amount: int, now, order_items=None
) -> str:
    """The items are refunded and their licences revoked; the order is ``refunded`` once
    every item is, ``partially_refunded`` before. Returns that status (an order under
    dispute stays ``disputed``: the dispute restores the returned status when it ends).

    ``order_items``: every item of the order, when the caller read them under the lock
    (``items`` among them); it spares the query for the items that remain.
    """
    OrderItem.objects.filter(pk__in=[item.pk for item in items]).update(refunded=True)
    License.objects.filter(
        order=order, product_id__in=[item.product_id for item in items], revoked_at__isnull=True
    ).update(revoked_at=now)
    for item in items:
        item.refunded = True
    order.refunded_amount += amount
    if order_items is None:
        remaining = order.items.filter(refunded=False).exists()
    else:
        refunded_now = {item.pk for item in items}
        remaining = any(not i.refunded and i.pk not in refunded_now for i in order_items)
    refund_status = Order.Status.PARTIALLY_REFUNDED if remaining else Order.Status.REFUNDED
    if order.status == Order.Status.REFUND_PENDING:
        order.status = refund_status
        order.status_before = ""
    order.save(update_fields=["status", "status_before", "refunded_amount", "updated_at"])
    return refund_status


def restore_order(*, order: Order) -> None:
    """A refund that failed puts the order back exactly where it was, so one can retry."""
    if order.status == Order.Status.REFUND_PENDING:
        order.status = order.status_before or Order.Status.COMPLETED
        order.status_before = ""
        order.save(update_fields=["status", "status_before", "updated_at"])


def suspend_for_dispute(*, order: Order, now) -> str:
    """A chargeback opened: the order is ``disputed`` and its active licences suspended.
    Returns the status to restore when the dispute is won or cancelled."""
    previous = order.status
    if order.status != Order.Status.DISPUTED:
        order.status = Order.Status.DISPUTED
        order.save(update_fields=["status", "updated_at"])
    License.objects.filter(order=order, revoked_at__isnull=True, suspended_at__isnull=True).update(
        suspended_at=now
    )
    return previous


def end_dispute(*, order: Order, restore_status: str) -> None:
    """Won or cancelled: the order goes back where it was and its licences are restored."""
    License.objects.filter(order=order, revoked_at__isnull=True).update(suspended_at=None)
    if order.status == Order.Status.DISPUTED:
        order.status = restore_status or Order.Status.COMPLETED
        order.save(update_fields=["status", "updated_at"])


def charge_back(*, order: Order, now) -> None:
    """Lost: the buyer's bank took the money back; the licences are revoked for good."""
    License.objects.filter(order=order, revoked_at__isnull=True).update(revoked_at=now)
    order.status = Order.Status.CHARGED_BACK
    order.save(update_fields=["status", "updated_at"])


# --- signed downloads ---------------------------------------------------------------------
def sign_download(*, product: Product, user) -> tuple[str, object]:
    """A short-lived token naming the product and its holder; returns (token, expires_at)."""
    token = signing.dumps({"p": str(product.pk), "u": str(user.pk)}, salt=DOWNLOAD_SALT)
    return token, timezone.now() + timedelta(seconds=settings.SIGNED_DOWNLOAD_TTL_SECONDS)


def record_download(*, product: Product, user, ip_address: str, user_agent: str) -> ProductDownload:
    """Keep a licensed fetch of the product's file in the access log (who, when, from where):
    what a chargeback for a digital good is answered with."""
    return ProductDownload.objects.create(
        product=product, user=user, ip_address=ip_address or None, user_agent=user_agent
    )


def presigned_download_url(*, stored, filename: str) -> str | None:
    """A short-lived URL of the object store for a licensed fetch, when downloads are
    redirected there (``MEDIA_PRESIGNED_DOWNLOAD_SECONDS``); None to stream through the app.
    Called after the licence check, on every fetch."""
    seconds = settings.MEDIA_PRESIGNED_DOWNLOAD_SECONDS
    if seconds <= 0 or not getattr(stored.storage, "bucket_name", None):
        return None
    if not stored.storage.exists(stored.name):
        raise errors.FileMissing()
    return stored.storage.url(
        stored.name,
        parameters={
            "ResponseContentDisposition": f'attachment; filename="{filename}"',
            "ResponseContentType": product_files.content_type_of(stored.name),
        },
        expire=seconds,
    )


def read_download_token(token: str) -> dict:
    """The token's claims; raises ``errors.DownloadLinkInvalid`` when forged or expired."""
    try:
        data = signing.loads(
            token, salt=DOWNLOAD_SALT, max_age=settings.SIGNED_DOWNLOAD_TTL_SECONDS
        )
    except signing.SignatureExpired as exc:
        raise errors.DownloadLinkInvalid("This download link has expired.") from exc
    except signing.BadSignature as exc:
        raise errors.DownloadLinkInvalid() from exc
    if not isinstance(data, dict):
        raise errors.DownloadLinkInvalid()
    return data


def end_refund_window(*, order_id, now) -> Order | None:
    """Close an order's refund window at ``now`` (demo data and staff tooling): from then on
    its money may be released."""
    with transaction.atomic():
        order = lock_order(order_id=order_id)
        if order is None or order.completed_at is None:
            return order
        order.refund_deadline = now
        order.save(update_fields=["refund_deadline", "updated_at"])
    return order
