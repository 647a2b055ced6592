"""The quarterly VAT report: invoices minus credit notes, per country, scheme and rate."""

import pytest
from django.db import connection
from django.utils import timezone

from invoicing.models import Invoice
from invoicing.report import Quarter
from tests.factories import AdminFactory, UserFactory
from tests.invoicing.factories import pay, vat_order
from tests.invoicing.test_credit_notes import refund, succeed

pytestmark = pytest.mark.django_db

URL = "/api/v1/admin/vat/report"


@pytest.fixture
def quarter_of_documents(psp, post_webhook, client_for):
    """FR consumer (two items, one refunded), DE consumer (OSS), DE business (reverse charge)."""
    french = vat_order(prices=(1000, 2000), rate="20", country="FR")
    german = vat_order(prices=(1000,), rate="19", country="DE")
    business = vat_order(
        prices=(5000,), country="DE", vat_number="DE136695976", reverse_charge=True
    )
    for order in (french, german, business):
        pay(post_webhook, order)
    succeed(post_webhook, refund(client_for(french.buyer), french, [french.items.get(price=2000)]))
    return str(Quarter.of(timezone.now()))


EXPECTED = [
    {
        "country": "DE",
        "scheme": "oss",
        "vat_rate": "19.0",
        "net_amount": 1000,
        "vat_amount": 190,
        "documents": 1,
    },
    {
        "country": "DE",
        "scheme": "reverse_charge",
        "vat_rate": "0",
        "net_amount": 5000,
        "vat_amount": 0,
        "documents": 1,
    },
    {
        "country": "FR",
        "scheme": "domestic",
        "vat_rate": "20.0",
        "net_amount": 1000,  # 3000 invoiced, 2000 credited
        "vat_amount": 200,
        "documents": 2,  # the invoice and its credit note
    },
]


def test_the_report_nets_credit_notes_per_country_scheme_and_rate(
    quarter_of_documents, client_for, django_assert_max_num_queries
):
    admin = client_for(AdminFactory())
    with django_assert_max_num_queries(2):  # the user, then one aggregate
        response = admin.get(URL, {"quarter": quarter_of_documents})
    assert response.status_code == 200
    assert response.json() == {
        "quarter": quarter_of_documents,
        "currency": "EUR",
        "lines": EXPECTED,
    }


def test_the_report_as_csv(quarter_of_documents, client_for):
    response = client_for(AdminFactory()).get(
        URL, {"quarter": quarter_of_documents, "format": "csv"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"vat-{quarter_of_documents}-EUR.csv" in response["Content-Disposition"]
    rows = [line.split(",") for line in response.content.decode().strip().split("\n")]
    assert rows[0] == [
        "quarter", "currency", "country", "scheme", "vat_rate", "net_amount", "vat_amount",
        "documents",
    ]  # fmt: skip
    assert rows[1:] == [
        [quarter_of_documents, "EUR", *(str(line[k]) for k in rows[0][2:])] for line in EXPECTED
    ]


def test_documents_of_another_quarter_are_not_counted(quarter_of_documents, client_for):
    with connection.cursor() as cursor:  # the German invoice, as if issued a year earlier
        german = Invoice.objects.get(tax_country="DE", reverse_charge=False)
        cursor.execute(
            "UPDATE invoicing_invoice SET issued_at = %s WHERE id = %s",
            [german.issued_at.replace(year=german.issued_at.year - 1), german.pk.hex],
        )
    body = client_for(AdminFactory()).get(URL, {"quarter": quarter_of_documents}).json()
    assert [line["scheme"] for line in body["lines"]] == ["reverse_charge", "domestic"]
    earlier = Quarter.of(german.issued_at.replace(year=german.issued_at.year - 1))
    assert client_for(AdminFactory()).get(URL, {"quarter": str(earlier)}).json()["lines"] == [
        EXPECTED[0]
    ]


def test_the_report_is_for_admins_only_and_wants_a_quarter(client_for, api_client):
    assert api_client.get(URL, {"quarter": "2025-Q1"}).status_code == 401
    assert client_for(UserFactory()).get(URL, {"quarter": "2025-Q1"}).status_code == 403
    admin = client_for(AdminFactory())
    for bad in ("", "2025-Q5", "2025Q1", "Q1-2025", "2025-Q1x"):
        response = admin.get(URL, {"quarter": bad})
        assert response.status_code == 400, bad
        assert response.json()["code"] == "invalid"
    assert admin.get(URL, {"quarter": "2025-Q1", "format": "csv"}).status_code == 200
    assert admin.get(URL, {"quarter": "2025-q1"}).json()["lines"] == []
