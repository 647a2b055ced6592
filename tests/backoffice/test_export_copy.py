"""On PostgreSQL the exports' rows are written by ``COPY … TO STDOUT (FORMAT CSV)``: the bytes
must be those of the Python path (``python_rows``, SQLite's) for the same rows, awkward values
included — commas, quotes, newlines, a lone carriage return, non-ASCII, empty strings and
NULLs, a cell starting with ``=`` (neither path neutralises formulas: the file is for finance's
tools, as it always was), negative amounts, zero- and three-decimal currencies."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib import admin
from django.db import connection, transaction

from audit.admin_export import copied_rows, python_rows
from invoicing.models import Invoice, InvoiceKind
from payments.models import LedgerEntry, Payout, Refund
from tests.backoffice.test_admin_console import staff_client
from tests.factories import UserFactory
from tests.marketplace.factories import OrderFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's"),
]

AWKWARD = ["a,b", 'say "hi"', "two\nlines", "cr\ronly", "Zoë Åström, 東京", "", "=1+2", "-3", "\\."]
CURRENCIES = ["EUR", "JPY", "KWD", "eur", "CLF"]
AMOUNTS = [0, 1, -1, 4999, -4999, 10**12 + 7]
START = datetime(2025, 1, 31, 9, 5, tzinfo=UTC)


def moment(n: int) -> datetime:
    """Distinct instants, every other one with microseconds (``IsoUtc``'s two forms)."""
    return START + timedelta(minutes=n, microseconds=250_000 * (n % 2))


@pytest.fixture
def awkward_rows():
    people = [UserFactory(email=f"p{n}@x.test", username=f"awk{n}") for n in range(3)]
    people[1].email = 'zoë,"q"@x.test'
    people[1].save(update_fields=["email"])
    orders = [OrderFactory(buyer=people[n % 3]) for n in range(len(AWKWARD))]
    for n, text in enumerate(AWKWARD):
        currency, amount = CURRENCIES[n % 5], AMOUNTS[n % 6]
        LedgerEntry.objects.create(
            seller=people[n % 3],
            kind=LedgerEntry.Kind.ADJUSTMENT,
            currency=currency,
            requested_amount=amount,
            applied_amount=0,  # no delta: the balances stay the sums of the entries
            balance_after=-amount * 3,
            order=orders[n] if n % 2 else None,
            created_at=moment(n),
        )
        Refund.objects.create(
            order=orders[n],
            amount=abs(amount) or 5,
            currency=currency,
            reason=text,
            requested_by=people[0] if n % 2 else None,
            provider_refund_id=text or None,
            created_at=moment(n),
            succeeded_at=moment(n + 1) if n % 3 else None,
        )
        Payout.objects.create(
            seller=people[n % 3],
            amount=abs(amount) or 5,
            currency=currency,
            payout_type="bank_account",
            payout_token="tok",
            provider_payout_id=text or None,
            created_at=moment(n),
            paid_at=moment(n) if n % 2 else None,
        )
        buyer = {"name": text, "email": f"b{n}@x.test", "country": "FR"}
        if n % 2:
            buyer["vat_number"] = text  # absent on every other: ->> is NULL
        Invoice.objects.create(
            number=f"VZ-2025-{n:06d}",
            kind=InvoiceKind.INVOICE,
            year=2025,
            order=orders[n],
            issued_at=moment(n),
            seller={"name": "Veza"},
            buyer=buyer,
            net_total=amount,
            vat_total=amount // 5,
            gross_total=amount + amount // 5,
            currency=currency,
            reverse_charge=bool(n % 2),
            tax_country="FR" if n % 3 else None,
        )
    Invoice.objects.create(  # the column read through a join: the note's invoice's number
        number="VZ-C-2025-000001",
        kind=InvoiceKind.CREDIT_NOTE,
        year=2025,
        order=orders[0],
        corrects=Invoice.objects.get(number="VZ-2025-000000"),
        refund_id=Refund.objects.filter(order=orders[0]).get().pk,
        issued_at=moment(len(AWKWARD)),
        seller={"name": "Veza"},
        buyer={"name": "Zoë", "email": "b0@x.test", "country": "FR"},
        net_total=-1,
        vat_total=0,
        gross_total=-1,
        currency="EUR",
    )


@pytest.mark.usefixtures("awkward_rows")
@pytest.mark.parametrize("model", [LedgerEntry, Refund, Payout, Invoice])
def test_copy_writes_the_same_bytes_as_the_python_path(model):
    model_admin = admin.site._registry[model]
    queryset = model.objects.order_by(*(model_admin.ordering or model._meta.ordering), "pk")
    columns = model_admin.export_columns

    with transaction.atomic():
        by_python = "".join(python_rows(queryset, columns)).encode()
        by_copy = b"".join(copied_rows(queryset, columns))

    assert by_python.count(b"\r\n") >= len(AWKWARD)
    assert by_copy == by_python


@pytest.mark.usefixtures("awkward_rows")
@pytest.mark.parametrize(
    "model, url",
    [
        (LedgerEntry, "/admin/payments/ledgerentry/export.csv"),
        (Invoice, "/admin/invoicing/invoice/export.csv"),
    ],
)
def test_the_export_response_is_header_copied_rows_and_totals(model, url):
    """What an admin downloads on PostgreSQL: the header and the TOTAL rows of the Python
    writer around the rows ``COPY`` wrote, in the list's order."""
    client, _ = staff_client("Finance")
    model_admin = admin.site._registry[model]

    response = client.get(url)

    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    header = ",".join(c.header for c in model_admin.export_columns).encode() + b"\r\n"
    queryset = model.objects.order_by(*(model_admin.ordering or model._meta.ordering))
    with transaction.atomic():
        rows = "".join(python_rows(queryset, model_admin.export_columns)).encode()
    assert body.startswith(header + rows)
    totals = body[len(header + rows) :].split(b"\r\n")
    assert [line.split(b",")[0] for line in totals if line] == [b"TOTAL"] * len(CURRENCIES)


@pytest.mark.usefixtures("awkward_rows")
@pytest.mark.parametrize(
    "model, url, search, found",
    [
        (LedgerEntry, "/admin/payments/ledgerentry/export.csv", "p0@x", 3),
        (Invoice, "/admin/invoicing/invoice/export.csv", "VZ-C-2025", 1),
    ],
)
def test_a_searched_export_copies_the_matching_rows(model, url, search, found):
    """The list's search (``pk IN (…)`` of index-served prefix matches) narrows the COPY."""
    client, _ = staff_client("Finance")

    response = client.get(url, {"q": search})

    assert response.status_code == 200
    header, *lines = b"".join(response.streaming_content).decode().split("\r\n")
    body = [line for line in lines if line and not line.startswith("TOTAL,")]
    assert len(body) == found
    assert all(search in line for line in body)
