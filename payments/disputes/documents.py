"""The documents Veza answers a dispute with: the order's receipt and one service
documentation PDF (the order, its items and licence terms, the buyer's account, the access
log of the disputed items). Small PDFs built from rows; no audio file is ever read."""

from dataclasses import dataclass

from django.utils import timezone

from invoicing.documents import invoice_pdf
from invoicing.selectors import order_invoice
from marketplace.models import License
from marketplace.receipts import receipt_pdf
from payments.disputes.selectors import access_log
from payments.models import Dispute
from veza import pdf
from veza.money import format_money

PDF = "application/pdf"


@dataclass(frozen=True)
class Document:
    filename: str
    content: bytes
    file_type: str = PDF


def receipt(dispute: Dispute) -> Document:
    """The order's invoice; the order confirmation for an order paid before invoices."""
    invoice = order_invoice(dispute.order_id)
    if invoice is not None:
        return Document(filename=f"{invoice.number}.pdf", content=invoice_pdf(invoice))
    return Document(filename=f"receipt-{dispute.order_id}.pdf", content=receipt_pdf(dispute.order))


def service_documentation(dispute: Dispute) -> Document:
    return Document(
        filename=f"service-documentation-{dispute.order_id}.pdf",
        content=service_documentation_pdf(dispute),
    )


def service_documentation_pdf(dispute: Dispute) -> bytes:
    order = dispute.order
    buyer = order.buyer
    items = list(order.items.select_related("product", "product__track").order_by("position"))
    licences = {lic.product_id: lic for lic in License.objects.filter(order=order)}
    log = access_log(order=order)
    now = timezone.now()
    age_at_order = (order.created_at - buyer.created_at).days
    disputed = format_money(dispute.amount, dispute.currency)
    story = [
        pdf.title("Service documentation"),
        pdf.paragraph(
            f"Dispute {dispute.provider_dispute_id} of payment "
            f"{order.hyperswitch_payment_id or '—'} ({disputed}, reason: "
            f"{dispute.reason or 'not given'}). Veza sells digital goods: each item below was "
            "delivered as a licence on the buyer's account, used to download its file and, for "
            "tracks, to stream it. The access log shows that use."
        ),
        pdf.heading("Order"),
        pdf.key_values(
            [
                ("Order", str(order.pk)),
                ("Placed at", pdf.when(order.created_at)),
                ("Paid at", pdf.when(order.completed_at)),
                ("Payment id", order.hyperswitch_payment_id or "—"),
                ("Total", format_money(order.total_amount, order.currency)),
                ("Refunded", format_money(order.refunded_amount, order.currency)),
            ]
        ),
        pdf.heading("Items and licence terms"),
        pdf.table(
            ["Item", "Type", "Price", "Licence granted", "Suspended", "Revoked"],
            [_item_row(item, licences.get(item.product_id)) for item in items],
            widths=[0.26, 0.1, 0.12, 0.18, 0.17, 0.17],
        ),
        pdf.paragraph(
            "A licence lets its holder download the item's file (and stream a track) for "
            "personal use, for as long as it is neither revoked (refund, lost chargeback) nor "
            "suspended (while a dispute is open)."
        ),
        pdf.heading("Buyer's account"),
        pdf.key_values(
            [
                ("Buyer", f"{buyer.username} <{buyer.email}>"),
                ("Account created", pdf.when(buyer.created_at)),
                ("Account age at the order", f"{age_at_order} days"),
                ("Account age today", f"{(now - buyer.created_at).days} days"),
                ("Email address verified", "yes" if buyer.email_verified else "no"),
            ]
        ),
        pdf.heading("Access log of the disputed items by the buyer"),
        pdf.paragraph(
            f"Since the order was placed: {log.downloads} download(s), {log.streams} "
            "stream(s). Downloads are recorded by Veza's API with the client's IP address and "
            "user agent. Streams are reported by Veza's stream server, which does not pass on "
            "the listener's IP address or user agent: for streams they are not known."
            + (" Only the latest entries of each kind are listed." if log.truncated else "")
        ),
        pdf.table(
            ["Time", "Access", "Item", "IP address", "User agent", "Detail"],
            [
                (
                    pdf.when(access.when),
                    access.kind,
                    access.item,
                    access.ip_address or ("not known" if access.kind == "stream" else "—"),
                    access.user_agent or ("not known" if access.kind == "stream" else "—"),
                    access.detail,
                )
                for access in log.entries
            ]
            or [("—", "no access recorded", "", "", "", "")],
            widths=[0.22, 0.11, 0.17, 0.14, 0.24, 0.12],
        ),
        pdf.space(),
        pdf.paragraph(f"Generated by Veza at {pdf.when(now)}."),
    ]
    return pdf.render(story, document_title=f"Veza dispute {dispute.provider_dispute_id}")


def _item_row(item, licence: License | None) -> tuple:
    product = item.product
    return (
        product.title + (f" (track: {product.track.title})" if product.track_id else ""),
        product.get_product_type_display(),
        format_money(item.price, item.currency) + (" — refunded" if item.refunded else ""),
        pdf.when(licence.granted_at) if licence else "—",
        pdf.when(licence.suspended_at) if licence and licence.suspended_at else "—",
        pdf.when(licence.revoked_at) if licence and licence.revoked_at else "—",
    )
