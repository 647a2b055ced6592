"""Credit notes: one per succeeded refund (its items) and per lost dispute (the items not
refunded yet), their lines the exact negatives of the invoice's, in their own series."""

import pytest
from django.utils import timezone

from invoicing.models import Invoice
from payments.models import Refund
from tests.invoicing.factories import pay, vat_order
from tests.payments.test_disputes import dispute_event

pytestmark = pytest.mark.django_db

URL = "/api/v1/invoices"


def refund(client, order, items):
    response = client.post(
        f"/api/v1/marketplace/orders/{order.pk}/refund",
        {"reason": "wrong pack", "items": [str(i.pk) for i in items]},
        format="json",
    )
    assert response.status_code == 200, response.content
    return Refund.objects.get(pk=response.json()["refund"]["id"])


def succeed(post_webhook, refund, event_id=None):
    body = {"event_type": "refund_succeeded", "refund_id": str(refund.pk)}
    if event_id:
        body = {
            "event_id": event_id,
            "event_type": "refund_succeeded",
            "content": {"type": "refund_details", "object": {"refund_id": str(refund.pk)}},
        }
    response = post_webhook(body)
    assert response.status_code == 200
    return response.json()


def test_each_partial_refund_gets_a_credit_note_of_its_items_negated(psp, post_webhook, client_for):
    year = timezone.now().year
    order = vat_order(prices=(1000, 2000, 3000), rate="25.5", country="FI")
    pay(post_webhook, order)
    invoice = Invoice.objects.get(kind="invoice")
    client = client_for(order.buyer)
    items = list(order.items.order_by("position"))

    succeed(post_webhook, refund(client, order, [items[1]]))
    succeed(post_webhook, refund(client, order, [items[0], items[2]]))

    first, second = Invoice.objects.filter(kind="credit_note").order_by("number")
    assert (first.number, second.number) == (f"VZ-C-{year}-000001", f"VZ-C-{year}-000002")
    assert invoice.number == f"VZ-{year}-000001"  # the invoices' own series
    invoice_lines = client.get(f"{URL}/{invoice.pk}").json()["lines"]
    body = client.get(f"{URL}/{first.pk}").json()
    assert body["kind"] == "credit_note"
    assert body["corrects_invoice_id"] == str(invoice.pk)
    assert body["lines"] == [
        {
            "description": invoice_lines[1]["description"],
            "net_amount": -2000,
            "vat_rate": "25.5",
            "vat_amount": -510,
            "gross_amount": -2510,
        }
    ]
    assert (body["net_total"], body["vat_total"], body["gross_total"]) == (-2000, -510, -2510)
    assert body["buyer"] == client.get(f"{URL}/{invoice.pk}").json()["buyer"]
    negated = [
        {**line, **{k: -line[k] for k in ("net_amount", "vat_amount", "gross_amount")}}
        for line in (invoice_lines[0], invoice_lines[2])
    ]
    assert client.get(f"{URL}/{second.pk}").json()["lines"] == negated
    assert second.gross_total == -(invoice.gross_total - 2510)
    assert [i["number"] for i in client.get(URL).json()["results"]] == [
        second.number,
        first.number,
        invoice.number,
    ]
    assert {
        i["kind"] for i in client.get(f"/api/v1/marketplace/orders/{order.pk}").json()["invoices"]
    } == {"invoice", "credit_note"}


def test_a_replayed_refund_webhook_issues_no_second_credit_note(psp, post_webhook, client_for):
    order = vat_order()
    pay(post_webhook, order)
    done = refund(client_for(order.buyer), order, list(order.items.all()))

    assert succeed(post_webhook, done, event_id="evt_r1") == {"status": "processed"}
    assert succeed(post_webhook, done, event_id="evt_r1") == {"status": "duplicate"}
    assert succeed(post_webhook, done, event_id="evt_r2") == {"status": "duplicate"}
    assert Invoice.objects.filter(kind="credit_note", refund_id=done.pk).count() == 1


def test_the_credit_note_pdf_names_the_invoice_it_corrects(psp, post_webhook, client_for):
    from tests.invoicing.conftest import pdf_text

    order = vat_order()
    pay(post_webhook, order)
    succeed(post_webhook, refund(client_for(order.buyer), order, list(order.items.all())))
    invoice, credit_note = (
        Invoice.objects.get(kind="invoice"),
        Invoice.objects.get(kind="credit_note"),
    )
    text = pdf_text(client_for(order.buyer).get(f"{URL}/{credit_note.pk}/pdf").content)
    assert "Credit note" in text and credit_note.number in text
    assert f"Corrects invoice {invoice.number}" in text.replace("\n", " ")
    assert "-€12.00" in text


def test_a_lost_dispute_credits_the_items_not_refunded_yet(psp, post_webhook, client_for):
    order = vat_order(prices=(1000, 2000), rate="19", country="DE")
    pay(post_webhook, order)
    first, second = order.items.order_by("position")
    succeed(post_webhook, refund(client_for(order.buyer), order, [first]))
    order.refresh_from_db()

    post_webhook(dispute_event(order, "opened", amount=order.total_amount - order.refunded_amount))
    post_webhook(dispute_event(order, "lost"))
    post_webhook(dispute_event(order, "lost", event_id="evt_again"))

    dispute_note = Invoice.objects.get(kind="credit_note", dispute_id__isnull=False)
    assert [
        (ln.order_item_id, ln.net_amount, ln.vat_amount) for ln in dispute_note.lines.all()
    ] == [(second.pk, -2000, -380)]
    assert dispute_note.corrects == Invoice.objects.get(kind="invoice")
    assert Invoice.objects.filter(kind="credit_note").count() == 2


def test_a_won_dispute_issues_no_credit_note(post_webhook):
    order = vat_order()
    pay(post_webhook, order)
    post_webhook(dispute_event(order, "opened"))
    post_webhook(dispute_event(order, "won"))
    assert not Invoice.objects.filter(kind="credit_note").exists()


def test_an_order_paid_before_invoicing_gets_no_credit_note(psp, post_webhook, client_for):
    order = vat_order()
    pay(post_webhook, order)
    Invoice.objects.filter(order=order).values("pk")  # the invoice exists...
    from django.db import connection

    with connection.cursor() as cursor:  # ...as if it never had (paid before invoicing)
        cursor.execute("DELETE FROM invoicing_invoiceline")
        cursor.execute("DELETE FROM invoicing_invoice")

    succeed(post_webhook, refund(client_for(order.buyer), order, list(order.items.all())))

    assert not Invoice.objects.exists()
    assert Refund.objects.get().status == Refund.Status.SUCCEEDED
