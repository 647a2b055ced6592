"""Thin Celery wrappers around invoicing: the order confirmation with its invoice."""

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from invoicing.documents import invoice_pdf
from invoicing.selectors import order_invoice
from veza.effects import once, task_effect_key
from veza.money import format_money

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def send_order_confirmation(self, *, order_id: str) -> None:
    """Email the buyer that the order is paid, its invoice PDF attached."""
    invoice = order_invoice(order_id)
    if invoice is None:
        logger.warning("order %s has no invoice: no confirmation sent", order_id)
        return
    buyer = invoice.order.buyer
    context = {
        "username": buyer.username,
        "order_id": str(invoice.order_id),
        "number": invoice.number,
        "total": format_money(invoice.gross_total, invoice.currency),
        "lines": [line.description for line in invoice.lines.all()],
        "url": f"{settings.FRONTEND_URL}/orders/{invoice.order_id}",
    }
    subject = render_to_string("email/order_confirmation.subject.txt", context).strip()
    text = render_to_string("email/order_confirmation.txt", context)
    html = render_to_string("email/order_confirmation.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [buyer.email])
    message.attach_alternative(html, "text/html")
    message.attach(f"{invoice.number}.pdf", invoice_pdf(invoice), "application/pdf")
    # Sent once even when the task is redelivered after its worker died (veza.effects).
    with once(task_effect_key("order-confirmation", str(invoice.order_id))) as first:
        if not first:
            return
        message.send()
    logger.info("sent the order confirmation of %s with invoice %s", order_id, invoice.number)
