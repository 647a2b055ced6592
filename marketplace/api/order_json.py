"""An order's JSON (``OrderOutput``'s exact shape) from ``values()`` rows, for the hot reads.

GET /orders/{id} and the answer of POST /orders are the checkout's path: DRF's nested
ModelSerializers (order → items → product → seller, refunds, disputes, invoices) cost more
than the statements did, and a detail through ``get_object`` also ran the list's filter
backends. Here the rows are read as plain values — the order and its items in one joined
statement (with whether it has refunds, disputes, documents), then those it has — and the
dict is written field by field with DRF's own renderings (UUIDs as strings, datetimes as
``DateTimeField`` writes them, rates as ``vat.format_rate``). ``OrderOutput`` stays the schema,
and tests compare the two renderings field for field.
"""

from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from invoicing.models import Invoice
from marketplace import vat
from marketplace.models import Order, OrderItem, Product
from payments.models import Dispute, Refund

ORDER_FIELDS = (
    "id",
    "buyer_id",
    "buyer__username",
    "net_amount",
    "vat_amount",
    "total_amount",
    "tax_country",
    "reverse_charge",
    "billing_country",
    "vat_number",
    "vat_number_confirmed",
    "refunded_amount",
    "currency",
    "status",
    "hyperswitch_payment_id",
    "completed_at",
    "refund_deadline",
    "created_at",
)
# An item and its product, as ``OrderItemOutput`` / ``ProductOutput`` show them.
ITEM_FIELDS = (
    "id",
    "price",
    "vat_rate",
    "vat_amount",
    "currency",
    "seller_id",
    "seller__username",
    "refunded",
    "product_id",
    "product__seller_id",
    "product__seller__username",
    "product__title",
    "product__description",
    "product__price",
    "product__currency",
    "product__product_type",
    "product__track_id",
    "product__file",
    "product__is_active",
    "product__created_at",
)
REFUND_FIELDS = (
    "id",
    "amount",
    "currency",
    "reason",
    "status",
    "error_message",
    "created_at",
    "succeeded_at",
    "failed_at",
)
DISPUTE_FIELDS = (
    "id",
    "amount",
    "currency",
    "status",
    "stage",
    "reason",
    "evidence_due_at",
    "opened_at",
    "closed_at",
)


def _datetime(value) -> str | None:
    """What DRF's ``DateTimeField`` writes: the current time zone, ISO 8601, ``Z`` for UTC."""
    if value is None:
        return None
    text = value.astimezone(timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _uuid(value) -> str | None:
    return None if value is None else str(value)


def _user(pk, username) -> dict:
    return {"id": str(pk), "username": username}


def _item(row: dict) -> dict:
    product_type = row["product__product_type"]
    track_id = row["product__track_id"]
    has_file = (
        track_id is not None if product_type == Product.Type.TRACK else bool(row["product__file"])
    )
    return {
        "id": str(row["id"]),
        "product": {
            "id": str(row["product_id"]),
            "seller": _user(row["product__seller_id"], row["product__seller__username"]),
            "title": row["product__title"],
            "description": row["product__description"],
            "price": row["product__price"],
            "currency": row["product__currency"],
            "product_type": product_type,
            "track_id": _uuid(track_id),
            "has_file": has_file,
            "is_active": row["product__is_active"],
            "created_at": _datetime(row["product__created_at"]),
            "vat_rate": None,  # only the product list's ?country= sets them
            "gross_price": None,
        },
        "price": row["price"],
        "vat_rate": vat.format_rate(row["vat_rate"]),
        "vat_amount": row["vat_amount"],
        "currency": row["currency"],
        "seller": _user(row["seller_id"], row["seller__username"]),
        "refunded": row["refunded"],
    }


def _order(row: dict, items: list[dict], refunds, disputes, invoices) -> dict:
    return {
        "id": str(row["id"]),
        "buyer": _user(row["buyer_id"], row["buyer__username"]),
        "items": items,
        "net_amount": row["net_amount"],
        "vat_amount": row["vat_amount"],
        "total_amount": row["total_amount"],
        "tax_country": row["tax_country"],
        "reverse_charge": row["reverse_charge"],
        "billing_country": row["billing_country"],
        "vat_number": row["vat_number"],
        "vat_number_confirmed": row["vat_number_confirmed"],
        "refunded_amount": row["refunded_amount"],
        "currency": row["currency"],
        "status": row["status"],
        "hyperswitch_payment_id": row["hyperswitch_payment_id"],
        "completed_at": _datetime(row["completed_at"]),
        "refund_deadline": _datetime(row["refund_deadline"]),
        "created_at": _datetime(row["created_at"]),
        "refunds": refunds,
        "disputes": disputes,
        "invoices": invoices,
    }


def _refunds(order_id) -> list[dict]:
    """Newest first, each with the order items it covers: one statement (refunds joined to
    their items)."""
    rows = (
        Refund.objects.filter(order_id=order_id)
        .order_by("-created_at", "id", "refund_items__order_item__position")
        .values(*REFUND_FIELDS, item_id=F("refund_items__order_item_id"))
    )
    refunds: dict = {}
    for row in rows:
        refund = refunds.get(row["id"])
        if refund is None:
            refund = refunds[row["id"]] = {
                "id": str(row["id"]),
                "order_id": str(order_id),
                "amount": row["amount"],
                "currency": row["currency"],
                "reason": row["reason"],
                "status": row["status"],
                "items": [],
                "error_message": row["error_message"],
                "created_at": _datetime(row["created_at"]),
                "succeeded_at": _datetime(row["succeeded_at"]),
                "failed_at": _datetime(row["failed_at"]),
            }
        if row["item_id"] is not None:
            refund["items"].append(str(row["item_id"]))
    return list(refunds.values())


def _disputes(order_id) -> list[dict]:
    return [
        {
            "id": str(row["id"]),
            "order_id": str(order_id),
            "amount": row["amount"],
            "currency": row["currency"],
            "status": row["status"],
            "stage": row["stage"],
            "reason": row["reason"],
            "evidence_due_at": _datetime(row["evidence_due_at"]),
            "opened_at": _datetime(row["opened_at"]),
            "closed_at": _datetime(row["closed_at"]),
        }
        for row in Dispute.objects.filter(order_id=order_id)
        .order_by("-opened_at")
        .values(*DISPUTE_FIELDS)
    ]


def _invoices(order_id) -> list[dict]:
    """Its invoice and credit notes, in the order they were issued."""
    return [
        {"id": str(pk), "number": number, "kind": kind}
        for pk, number, kind in Invoice.objects.filter(order_id=order_id)
        .order_by("issued_at", "number")
        .values_list("id", "number", "kind")
    ]


def _has(model) -> Exists:
    return Exists(model.objects.filter(order_id=OuterRef("pk")))


def order_detail(*, user, order_id) -> dict | None:
    """The order as its buyer, a seller of one of its items or an admin sees it (the rule of
    ``selectors.orders_for``); None for anyone else, as for an unknown id.

    One statement reads the order joined to its items, products and users, and whether it
    has refunds, disputes and documents (three indexed EXISTS); one more statement for each
    of those it has. A paid order: two (its invoice); a refunded and disputed one: four."""
    columns = ORDER_FIELDS + tuple(f"items__{field}" for field in ITEM_FIELDS)
    rows = list(
        Order.objects.filter(pk=order_id)
        .annotate(has_refunds=_has(Refund), has_disputes=_has(Dispute), has_invoices=_has(Invoice))
        .order_by("items__position")
        .values(*columns, "has_refunds", "has_disputes", "has_invoices")
    )
    if not rows:
        return None
    row = rows[0]
    prefix = len("items__")
    items = [
        {key[prefix:]: value for key, value in r.items() if key.startswith("items__")}
        for r in rows
        if r["items__id"] is not None
    ]
    if not (
        user.is_admin
        or row["buyer_id"] == user.pk
        or any(item["seller_id"] == user.pk for item in items)
    ):
        return None
    return _order(
        row,
        [_item(item) for item in items],
        _refunds(row["id"]) if row["has_refunds"] else [],
        _disputes(row["id"]) if row["has_disputes"] else [],
        _invoices(row["id"]) if row["has_invoices"] else [],
    )


def placed_order(order: Order, *, buyer) -> dict:
    """The answer of POST /orders: the order just placed, as the services left it in memory,
    and its items in one statement. An order just placed has no refund, dispute or document
    yet (each needs a paid order, and its payment was created unconfirmed)."""
    row = {field: getattr(order, field) for field in ORDER_FIELDS if "__" not in field}
    row["buyer_id"], row["buyer__username"] = buyer.pk, buyer.username
    items = OrderItem.objects.filter(order_id=order.pk).order_by("position").values(*ITEM_FIELDS)
    return _order(row, [_item(item) for item in items], [], [], [])
