"""The seller's payout API: payout method, payouts, statement (JSON and CSV)."""

import csv
import io

import pytest

from audit.models import AuditLog
from payments.models import Payout, PayoutMethod, SellerBalance
from payments.payouts.services import run_payouts
from tests.factories import AdminFactory, CreatorFactory, UserFactory
from tests.payments.payout_helpers import released, sold, with_method

pytestmark = pytest.mark.django_db

METHOD_URL = "/api/v1/marketplace/seller/payout-method"
PAYOUTS_URL = "/api/v1/marketplace/seller/payouts"
STATEMENT_URL = "/api/v1/marketplace/seller/statement"


def test_a_creator_sets_its_payout_method(client_for):
    seller = CreatorFactory()
    client = client_for(seller)

    first = client.put(METHOD_URL, {"payout_type": "bank", "payout_token": "tok_a"}, format="json")
    second = client.put(
        METHOD_URL, {"payout_type": "wallet", "payout_token": "tok_b"}, format="json"
    )

    assert first.status_code == 200, first.content
    assert second.status_code == 200
    assert second.json()["payout_type"] == "wallet"
    method = PayoutMethod.objects.get(seller=seller)
    assert (method.payout_type, method.payout_token) == ("wallet", "tok_b")
    assert AuditLog.objects.filter(action="payout_method.set", actor=seller).count() == 2


def test_payout_method_needs_a_creator_role_and_a_known_type(client_for):
    response = client_for(UserFactory()).put(
        METHOD_URL, {"payout_type": "bank", "payout_token": "t"}, format="json"
    )
    assert response.status_code == 403
    response = client_for(CreatorFactory()).put(
        METHOD_URL, {"payout_type": "cheque", "payout_token": "t"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert not PayoutMethod.objects.exists()


@pytest.fixture
def seller_with_payout(psp):
    seller = CreatorFactory()
    with_method(seller)
    released(seller, price=2000)
    run_payouts()
    return seller, Payout.objects.get(seller=seller)


def test_the_seller_lists_and_reads_its_payouts(client_for, seller_with_payout):
    seller, payout = seller_with_payout
    client = client_for(seller)

    listing = client.get(PAYOUTS_URL)
    detail = client.get(f"{PAYOUTS_URL}/{payout.pk}")

    assert listing.status_code == 200
    assert listing.json()["count"] == 1
    assert detail.status_code == 200
    assert detail.json() == {
        "id": str(payout.pk),
        "amount": 1800,
        "currency": "EUR",
        "status": "pending",
        "provider_payout_id": str(payout.pk),
        "failure_reason": "",
        "created_at": detail.json()["created_at"],
        "paid_at": None,
    }


def test_another_user_gets_404_and_an_admin_sees_it(client_for, seller_with_payout):
    _, payout = seller_with_payout
    assert client_for(CreatorFactory()).get(f"{PAYOUTS_URL}/{payout.pk}").status_code == 404
    assert client_for(CreatorFactory()).get(PAYOUTS_URL).json()["count"] == 0
    assert client_for(AdminFactory()).get(f"{PAYOUTS_URL}/{payout.pk}").status_code == 200


def test_balance_shows_next_payout_at(client_for, db):
    body = client_for(CreatorFactory()).get("/api/v1/marketplace/seller/balance").json()
    assert body["next_payout_at"] is not None


def test_statement_closing_balance_equals_the_balance(client_for, seller_with_payout):
    seller, payout = seller_with_payout
    sold(seller, price=1000)
    balance = SellerBalance.objects.get(seller=seller)

    response = client_for(seller).get(STATEMENT_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["opening_balance"] == 0
    assert body["closing_balance"] == balance.total == 900
    kinds = [entry["kind"] for entry in body["entries"]]
    assert kinds == ["sale_credit", "release", "payout", "sale_credit"]
    assert body["entries"][2]["payout_id"] == str(payout.pk)
    assert body["entries"][2]["amount"] == -1800
    assert body["opening_balance"] + sum(e["amount"] for e in body["entries"]) == 900


def test_statement_of_a_later_period_opens_on_the_earlier_balance(client_for, seller_with_payout):
    seller, _ = seller_with_payout
    response = client_for(seller).get(STATEMENT_URL, {"from": "2999-01-01"})
    assert response.status_code == 200
    body = response.json()
    assert body["entries"] == []
    assert body["opening_balance"] == body["closing_balance"] == 0


def test_statement_as_csv_has_a_row_per_entry_and_the_closing_total(client_for, seller_with_payout):
    seller, _ = seller_with_payout
    response = client_for(seller).get(STATEMENT_URL, {"format": "csv", "currency": "EUR"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["kind"] for r in rows] == [
        "opening_balance",
        "sale_credit",
        "release",
        "payout",
        "closing_balance",
    ]
    entries = rows[1:-1]
    assert int(rows[0]["amount"]) + sum(int(r["amount"]) for r in entries) == int(
        rows[-1]["amount"]
    )
    assert int(rows[-1]["amount"]) == SellerBalance.objects.get(seller=seller).total


@pytest.mark.parametrize(
    "query",
    [{"from": "yesterday"}, {"to": "2026-13-45"}, {"format": "csv", "from": "x"}, {"to": ""}],
)
def test_statement_with_a_bad_date_is_a_400_json(client_for, db, query):
    response = client_for(CreatorFactory()).get(STATEMENT_URL, query)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "invalid"


@pytest.mark.parametrize(
    "query",
    [
        # Valid ISO datetimes whose offset PostgreSQL refuses (past ±15:59): read in UTC.
        {"from": "0194-11-27T22:44:43-18:44"},
        {"to": "2026-01-01T00:00:00+23:59"},
        # Bounds at the ends of the calendar.
        {"to": "9999-12-31"},
        {"from": "0001-01-01T00:00:00+05:00"},
    ],
)
def test_statement_takes_every_iso_date_and_datetime(client_for, db, query):
    response = client_for(CreatorFactory()).get(STATEMENT_URL, query)
    assert response.status_code == 200, response.content
    assert response.json()["entries"] == []


def test_an_empty_seller_names_nobody(client_for, db):
    # The schema types ?seller= as a uuid: an empty one is not "the caller".
    response = client_for(AdminFactory()).get(STATEMENT_URL, {"seller": ""})
    assert response.status_code == 404


def test_only_an_admin_reads_another_sellers_statement(client_for, seller_with_payout):
    seller, _ = seller_with_payout
    other = client_for(CreatorFactory()).get(STATEMENT_URL, {"seller": str(seller.pk)})
    admin = client_for(AdminFactory()).get(STATEMENT_URL, {"seller": str(seller.pk)})
    assert other.status_code == 404
    assert admin.status_code == 200
    assert admin.json()["closing_balance"] == 0
