"""The order confirmation as a PDF: what a buyer's bank is shown as the receipt of a sale.

Invoices do not exist yet; when they do, the invoice PDF replaces this one where it is used
(``receipt_pdf`` is the one function callers know).
"""

from marketplace.models import Order
from veza import pdf
from veza.money import format_money


def receipt_pdf(order: Order) -> bytes:
    """Order id, date, buyer, items with their prices, total and the provider's payment id."""
    items = list(order.items.select_related("product").order_by("position", "id"))
    buyer = order.buyer
    story = [
        pdf.title("Order confirmation"),
        pdf.key_values(
            [
                ("Order", str(order.pk)),
                ("Placed at", pdf.when(order.created_at)),
                ("Paid at", pdf.when(order.completed_at)),
                ("Buyer", f"{buyer.username} <{buyer.email}>"),
                ("Payment id", order.hyperswitch_payment_id or "—"),
                ("Seller of record", "Veza marketplace"),
            ]
        ),
        pdf.space(),
        pdf.table(
            ["Item", "Type", "Price", "Refunded"],
            [
                (
                    item.product.title,
                    item.product.get_product_type_display(),
                    format_money(item.price, item.currency),
                    "yes" if item.refunded else "no",
                )
                for item in items
            ],
            widths=[0.5, 0.15, 0.2, 0.15],
        ),
        pdf.space(),
        pdf.key_values(
            [
                ("Net", format_money(order.net_amount, order.currency)),
                (
                    f"VAT ({order.tax_country or 'no country'})"
                    + (", reverse charge" if order.reverse_charge else ""),
                    format_money(order.vat_amount, order.currency),
                ),
                ("Total", format_money(order.total_amount, order.currency)),
                ("Refunded", format_money(order.refunded_amount, order.currency)),
            ]
        ),
        pdf.space(),
        pdf.paragraph(
            "Digital goods: each item is delivered as a licence to download (and, for tracks, "
            "stream) its file from the buyer's Veza account as soon as the payment succeeds."
        ),
    ]
    return pdf.render(story, document_title=f"Veza order {order.pk}")
