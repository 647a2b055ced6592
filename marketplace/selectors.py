"""Reads, and the marketplace's rules about who may act on an order and until when."""

from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone

from marketplace.models import License, Order, OrderItem, Product


def active_products():
    return Product.objects.filter(is_active=True, taken_down_at__isnull=True).select_related(
        "seller"
    )


def visible_products(user):
    """Active products, plus the caller's own inactive or taken-down ones (so a seller can
    manage them)."""
    queryset = Product.objects.select_related("seller")
    if user.is_authenticated and user.is_admin:
        return queryset
    listed = Q(is_active=True, taken_down_at__isnull=True)
    if user.is_authenticated:
        return queryset.filter(listed | Q(seller=user))
    return queryset.filter(listed)


def orders_for(user):
    """Orders the user may see: as buyer, as seller of one of its items, or all for admins."""
    queryset = Order.objects.select_related("buyer").prefetch_related(
        Prefetch(
            "items",
            queryset=OrderItem.objects.select_related("product__seller", "seller").order_by(
                "position"
            ),
        ),
    )
    if user.is_admin:
        return queryset
    sold = OrderItem.objects.filter(order=OuterRef("pk"), seller=user)
    return queryset.filter(Q(buyer=user) | Exists(sold))


def can_act_on_order(*, user, order: Order) -> bool:
    """The buyer, a seller of one of its items, or an admin: the one rule, everywhere."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_admin or order.buyer_id == user.pk:
        return True
    return order.items.filter(seller_id=user.pk).exists()


def refund_window_expired(*, order: Order, now=None) -> bool:
    """Past ``refund_deadline`` (or ``created_at`` + the window when the order has none)."""
    return (now or timezone.now()) > order.effective_refund_deadline


def licenses_of(user):
    return License.objects.filter(buyer=user).select_related("product__seller", "order")


def active_license(*, user, product) -> License | None:
    """The caller's licence that still downloads: none once the product was taken down."""
    if product.taken_down_at is not None:
        return None
    return License.objects.active().filter(buyer=user, product=product).first()


def holds_licence_for_track(*, user, track) -> bool:
    """Registered with tracks at start-up: a licence on a product of a track allows its download."""
    return (
        License.objects.active()
        .filter(buyer=user, product__track=track, product__taken_down_at__isnull=True)
        .exists()
    )
