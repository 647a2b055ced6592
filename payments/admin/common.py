"""What the payments consoles show alike: links to an order or a refund, status badges, an
order in one line, its licences. Dates and amounts read as everywhere else in the admin
(``veza.admin_tools.when``, ``veza.money.format_money``)."""

from django.utils.html import format_html, format_html_join

from marketplace.models import License, Order
from payments.models import Dispute
from veza.admin_tools import admin_link, html_table
from veza.money import format_money as money

STATUS_COLOURS = {
    "awaiting_approval": "#6a1b9a",
    "pending": "#d98c00",
    "succeeded": "#2e7d32",
    "failed": "#c62828",
    "rejected": "#5d4037",
}
OPEN, FAVOURABLE, UNFAVOURABLE = "#d98c00", "#2e7d32", "#c62828"


def order_link(order_id, label: str | None = None) -> str:
    return admin_link("admin:marketplace_order_change", order_id, label)


def refund_link(refund_id, label: str | None = None) -> str:
    return admin_link("admin:payments_refund_change", refund_id, label)


def status_badge(label: str, colour: str) -> str:
    return format_html(
        '<span style="color:#fff;background:{};padding:2px 8px;border-radius:8px">{}</span>',
        colour,
        label,
    )


def dispute_colour(dispute: Dispute) -> str:
    """Green when the money comes back, red when it is gone for good, amber while open."""
    if dispute.status in Dispute.RETURNS_MONEY:
        return FAVOURABLE
    return UNFAVOURABLE if dispute.status in Dispute.TERMINAL else OPEN


def order_summary(order: Order, facts: list[tuple[str, str]]) -> str:
    """An order in one line — its link, status, buyer and total — then ``facts`` as
    (label, value) pairs."""
    return format_html(
        "{} — {} — buyer {} — total {}{}",
        order_link(order.pk, str(order.pk)),
        order.get_status_display(),
        order.buyer.username,
        money(order.total_amount, order.currency),
        format_html_join("", " — {} {}", facts),
    )


def licences_table(order_id) -> str:
    """The licences an order granted, and what became of them."""
    licences = License.objects.filter(order=order_id).select_related("product", "buyer")
    return html_table(
        ["product", "holder", "granted", "suspended", "revoked"],
        [
            (
                lic.product.title,
                lic.buyer.username,
                lic.granted_at,
                lic.suspended_at or "—",
                lic.revoked_at or "—",
            )
            for lic in licences
        ],
    )
