from django.db.models import Exists, OuterRef, Prefetch, Q

from marketplace.models import License, Order, OrderItem, Product
from payments.models import Refund


def active_products():
    return Product.objects.filter(is_active=True).select_related("seller")


def visible_products(user):
    """Active products, plus the caller's own inactive ones (so a seller can manage them)."""
    queryset = Product.objects.select_related("seller")
    if user.is_authenticated and user.is_admin:
        return queryset
    if user.is_authenticated:
        return queryset.filter(Q(is_active=True) | Q(seller=user))
    return queryset.filter(is_active=True)


def orders_for(user):
    """Orders the user may see: as buyer, as seller of one of its items, or all for admins."""
    queryset = Order.objects.select_related("buyer").prefetch_related(
        Prefetch(
            "items",
            queryset=OrderItem.objects.select_related("product__seller", "seller").order_by(
                "position"
            ),
        ),
        Prefetch("refunds", queryset=Refund.objects.order_by("-created_at")),
    )
    if user.is_admin:
        return queryset
    sold = OrderItem.objects.filter(order=OuterRef("pk"), seller=user)
    return queryset.filter(Q(buyer=user) | Exists(sold))


def licenses_of(user):
    return License.objects.filter(buyer=user).select_related("product__seller", "order")


def active_license(*, user, product) -> License | None:
    return License.objects.active().filter(buyer=user, product=product).first()
