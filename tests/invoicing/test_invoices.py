"""An invoice per paid order: issued by the payment webhook, numbered without gaps, shown to
its buyer (and admins) only, as JSON and PDF, and never changed."""

import pytest
from django.core import mail
from django.utils import timezone

from invoicing.models import Invoice, InvoiceLine
from tests.factories import AdminFactory, UserFactory
from tests.invoicing.conftest import pdf_text
from tests.invoicing.factories import pay, vat_order
from tests.marketplace.factories import ProductFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/invoices"


def test_the_payment_webhook_issues_the_orders_invoice_numbered_in_sequence(
    post_webhook, client_for
):
    year = timezone.now().year
    first, second = vat_order(prices=(1000, 2550), rate="19", country="DE"), vat_order()

    pay(post_webhook, first)
    pay(post_webhook, second)

    invoice = Invoice.objects.get(order=first)
    assert invoice.number == f"VZ-{year}-000001"
    assert Invoice.objects.get(order=second).number == f"VZ-{year}-000002"
    body = client_for(first.buyer).get(f"{URL}/{invoice.pk}").json()
    assert body["kind"] == "invoice"
    assert body["order_id"] == str(first.pk)
    assert body["corrects_invoice_id"] is None
    assert (body["net_total"], body["vat_total"], body["gross_total"]) == (
        first.net_amount,
        first.vat_amount,
        first.total_amount,
    )
    assert (body["net_total"], body["vat_total"]) == (3550, 190 + 485)
    assert body["currency"] == "EUR" and body["reverse_charge"] is False
    assert body["seller"] == {
        "name": "Veza SAS",
        "address": "1 place de la Bourse, 75002 Paris, France",
        "vat_number": "FR40303265045",
    }
    buyer = first.buyer
    assert body["buyer"] == {
        "name": buyer.display_name,
        "email": buyer.email,
        "country": "DE",
        "vat_number": None,
    }
    items = list(first.items.select_related("product").order_by("position"))
    assert body["lines"] == [
        {
            "description": item.product.title,
            "net_amount": item.price,
            "vat_rate": "19.0",
            "vat_amount": item.vat_amount,
            "gross_amount": item.gross,
        }
        for item in items
    ]


def test_a_replayed_payment_webhook_issues_nothing_more(post_webhook):
    order = vat_order()
    pay(post_webhook, order, event_id="evt_pay")
    assert pay(post_webhook, order, event_id="evt_pay").json() == {"status": "duplicate"}
    assert pay(post_webhook, order, event_id="evt_other").json() == {"status": "duplicate"}
    assert Invoice.objects.count() == 1


def test_a_failed_payment_issues_no_invoice(post_webhook):
    from tests.hyperswitch.webhook_bodies import payment_body

    order = vat_order()
    post_webhook(payment_body("payment_failed", payment_id=order.hyperswitch_payment_id))
    assert not Invoice.objects.exists()


def test_an_invoice_is_its_buyers_and_admins_and_404_to_anyone_else(post_webhook, client_for):
    order = vat_order()
    pay(post_webhook, order)
    invoice = Invoice.objects.get()
    seller = order.items.get().seller

    assert client_for(order.buyer).get(f"{URL}/{invoice.pk}").status_code == 200
    assert client_for(AdminFactory()).get(f"{URL}/{invoice.pk}").status_code == 200
    for other in (UserFactory(), seller):
        assert client_for(other).get(f"{URL}/{invoice.pk}").status_code == 404
        assert client_for(other).get(f"{URL}/{invoice.pk}/pdf").status_code == 404
        assert client_for(other).get(URL).json()["count"] == 0


def test_the_list_is_the_buyers_paginated_and_filtered_by_order(
    post_webhook, client_for, django_assert_max_num_queries
):
    buyer = UserFactory()
    orders = [vat_order(buyer=buyer) for _ in range(3)]
    for order in orders:
        pay(post_webhook, order)
    pay(post_webhook, vat_order())  # someone else's

    client = client_for(buyer)
    with django_assert_max_num_queries(5):  # user, count, page, its lines
        page = client.get(URL, {"page_size": 2}).json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]
    only = client.get(URL, {"order": str(orders[0].pk)}).json()
    assert [i["order_id"] for i in only["results"]] == [str(orders[0].pk)]
    assert client.get(URL, {"order": "nope"}).status_code == 400
    assert client.get(URL).status_code == 200
    assert client_for(buyer).get(URL).json()["results"][0]["lines"]


def test_the_pdf_shows_number_totals_buyer_and_lines(post_webhook, client_for):
    product = ProductFactory(title="Night Drive stems", price=4999)
    order = vat_order(products=[product], rate="20", country="FR")
    pay(post_webhook, order)
    invoice = Invoice.objects.get()

    response = client_for(order.buyer).get(f"{URL}/{invoice.pk}/pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="{invoice.number}.pdf"' in response["Content-Disposition"]
    text = pdf_text(response.content)
    assert invoice.number in text
    assert "Night Drive stems" in text
    assert order.buyer.email in text and order.buyer.display_name in text
    assert "Veza SAS" in text and "FR40303265045" in text
    assert "€49.99" in text and "€10.00" in text and "€59.99" in text  # net, VAT, gross
    assert "20.0 %" in text
    assert "Reverse charge" not in text


def test_a_reverse_charge_invoice_carries_the_mention(post_webhook, client_for):
    order = vat_order(country="DE", vat_number="DE136695976", reverse_charge=True)
    pay(post_webhook, order)
    invoice = Invoice.objects.get()
    body = client_for(order.buyer).get(f"{URL}/{invoice.pk}").json()
    assert body["reverse_charge"] is True
    assert body["buyer"]["vat_number"] == "DE136695976"
    assert body["vat_total"] == 0 and body["lines"][0]["vat_rate"] == "0"

    text = pdf_text(client_for(AdminFactory()).get(f"{URL}/{invoice.pk}/pdf").content)
    assert "Reverse charge — Article 196, Directive 2006/112/EC" in text
    assert "DE136695976" in text


def test_the_confirmation_email_attaches_the_invoice_pdf(
    post_webhook, django_capture_on_commit_callbacks
):
    order = vat_order()
    with django_capture_on_commit_callbacks(execute=True):
        pay(post_webhook, order)
    invoice = Invoice.objects.get()

    (message,) = [m for m in mail.outbox if invoice.number in m.subject]
    assert message.to == [order.buyer.email]
    ((filename, content, mimetype),) = message.attachments
    assert (filename, mimetype) == (f"{invoice.number}.pdf", "application/pdf")
    assert invoice.number in pdf_text(content)


def test_invoices_and_their_lines_are_append_only(post_webhook):
    pay(post_webhook, vat_order())
    invoice = Invoice.objects.get()
    line = InvoiceLine.objects.get()

    invoice.gross_total = 1
    for attempt in (invoice.save, invoice.delete, line.save, line.delete):
        with pytest.raises(PermissionError):
            attempt()
    with pytest.raises(PermissionError):
        Invoice.objects.update(net_total=0)
    with pytest.raises(PermissionError):
        Invoice.objects.all().delete()
    with pytest.raises(PermissionError):
        InvoiceLine.objects.filter(pk=line.pk).update(net_amount=0)
    assert Invoice.objects.get().gross_total == 1200


def test_the_order_json_lists_its_invoices_at_a_constant_query_count(
    post_webhook, client_for, django_assert_max_num_queries
):
    buyer = UserFactory()
    client = client_for(buyer)
    order = vat_order(buyer=buyer)
    pay(post_webhook, order)

    def orders_page():
        with django_assert_max_num_queries(8) as counted:
            body = client.get("/api/v1/marketplace/orders").json()
        return body, len(counted.captured_queries)

    client.get("/api/v1/marketplace/orders")  # warm: the caller comes from the cache after
    body, few = orders_page()
    invoice = Invoice.objects.get(order=order)
    assert body["results"][0]["invoices"] == [
        {"id": str(invoice.pk), "number": invoice.number, "kind": "invoice"}
    ]
    for _ in range(4):
        pay(post_webhook, vat_order(buyer=buyer, prices=(500, 700)))
    body, many = orders_page()
    assert len(body["results"]) == 5 and all(len(o["invoices"]) == 1 for o in body["results"])
    assert many == few
