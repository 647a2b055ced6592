"""EU VAT on orders, through the HTTP API: the buyer's country, the rate of the day, rounding,
businesses and VIES, the PSP payment and refunds carrying the VAT, sellers earning on the net."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import QuerySet

from marketplace import vat
from marketplace.models import Order
from payments.models import LedgerEntry, SellerBalance
from tests.factories import CreatorFactory, UserFactory
from tests.fakes.vies import RunningVies
from tests.marketplace.factories import ProductFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/marketplace/orders"


@pytest.fixture
def vies(settings):
    with RunningVies() as fake:
        settings.VIES_URL = fake.url
        settings.VIES_TIMEOUT = 0.5
        yield fake


@pytest.fixture
def on_day(monkeypatch):
    """``on_day(date)``: orders are placed on that UTC day."""

    def travel(day: date) -> None:
        monkeypatch.setattr(vat, "utc_today", lambda: day)

    return travel


def place(client, *products, **extra):
    body = {"items": [{"product_id": str(p.id)} for p in products], **extra}
    return client.post(URL, body, format="json")


def placed(client, *products, **extra) -> dict:
    response = place(client, *products, **extra)
    assert response.status_code == 201, response.content
    return response.json()["order"]


def amounts(order: dict) -> tuple:
    return (order["net_amount"], order["vat_amount"], order["total_amount"])


# --- rates and amounts --------------------------------------------------------------------
@pytest.mark.parametrize(
    "country, rate, vat_amount",
    [("FR", "20.0", 200), ("DE", "19.0", 190), ("IE", "23.0", 230), ("FI", "25.5", 255)],
)
def test_a_consumer_pays_the_vat_of_the_billing_country(
    psp, client_for, user, country, rate, vat_amount
):
    product = ProductFactory(price=1000)
    order = placed(client_for(user), product, billing_country=country)

    assert amounts(order) == (1000, vat_amount, 1000 + vat_amount)
    assert (order["tax_country"], order["reverse_charge"]) == (country, False)
    [item] = order["items"]
    assert (item["price"], item["vat_rate"], item["vat_amount"]) == (1000, rate, vat_amount)
    stored = Order.objects.get(pk=order["id"])
    assert (stored.net_amount, stored.vat_amount, stored.total_amount) == amounts(order)
    assert stored.items.get().vat_rate == Decimal(rate)


def test_the_psp_payment_is_for_the_total_with_vat(psp, client_for, user):
    order = placed(client_for(user), ProductFactory(price=1999), billing_country="DE")

    assert amounts(order) == (1999, 380, 2379)
    [call] = psp.calls_to("POST", "/payments")
    assert (call.body["amount"], call.body["currency"]) == (2379, "EUR")


@pytest.mark.parametrize(
    "day, rate, vat_amount",
    [(date(2024, 8, 31), "24.0", 240), (date(2024, 9, 1), "25.5", 255)],
)
def test_finland_charges_the_rate_in_force_on_the_day(
    psp, client_for, user, on_day, day, rate, vat_amount
):
    on_day(day)
    order = placed(client_for(user), ProductFactory(price=1000), billing_country="FI")
    assert order["items"][0]["vat_rate"] == rate
    assert amounts(order) == (1000, vat_amount, 1000 + vat_amount)


@pytest.mark.parametrize(
    "country, day, rate",
    [
        ("EE", date(2023, 12, 31), "20"),
        ("EE", date(2024, 1, 1), "22"),
        ("EE", date(2025, 6, 30), "22"),
        ("EE", date(2025, 7, 1), "24"),
        ("LU", date(2022, 12, 31), "17"),
        ("LU", date(2023, 6, 1), "16"),
        ("LU", date(2024, 1, 1), "17"),
        ("RO", date(2025, 7, 31), "19"),
        ("RO", date(2025, 8, 1), "21"),
        ("SK", date(2024, 12, 31), "20"),
        ("SK", date(2025, 1, 1), "23"),
        ("GR", date(2026, 1, 1), "24"),
        ("HU", date(2026, 1, 1), "27"),
        ("US", date(2026, 1, 1), "0"),
        (None, date(2026, 1, 1), "0"),
    ],
)
def test_the_dated_table_gives_the_rate_of_the_day(country, day, rate):
    assert vat.standard_rate(country, day) == Decimal(rate)


def test_every_member_state_has_a_rate_and_nothing_else_does():
    from veza.countries import EU_MEMBER_STATES

    assert len(EU_MEMBER_STATES) == 27
    assert all(vat.standard_rate(c, date(2026, 1, 1)) > 0 for c in EU_MEMBER_STATES)
    assert vat.standard_rate("GB", date(2026, 1, 1)) == 0


@pytest.mark.parametrize(
    "price, country, day, vat_amount",
    [
        (1, "DE", date(2026, 1, 1), 0),  # 0.19 → 0
        (5, "FI", date(2026, 1, 1), 1),  # 1.275 → 1
        (2, "DK", date(2026, 1, 1), 1),  # 0.5 rounds up
        (1999, "DE", date(2026, 1, 1), 380),  # 379.81 → 380
        (3, "FR", date(2026, 1, 1), 1),  # 0.6 → 1
        (2, "FR", date(2026, 1, 1), 0),  # 0.4 → 0
    ],
)
def test_item_vat_rounds_half_up_to_the_cent(
    psp, client_for, user, on_day, price, country, day, vat_amount
):
    on_day(day)
    order = placed(client_for(user), ProductFactory(price=price), billing_country=country)
    assert order["items"][0]["vat_amount"] == vat_amount
    assert order["total_amount"] == price + vat_amount


def test_an_orders_vat_is_the_sum_of_its_items_vat_not_the_vat_of_the_sum(psp, client_for, user):
    # 3 × 2 at 25 %: each item 0.5 → 1, the sum 3; the VAT of the sum (6 → 1.5) would be 2.
    products = [ProductFactory(price=2) for _ in range(3)]
    order = placed(client_for(user), *products, billing_country="DK")
    assert [i["vat_amount"] for i in order["items"]] == [1, 1, 1]
    assert amounts(order) == (6, 3, 9)
    assert psp.calls_to("POST", "/payments")[0].body["amount"] == 9


def test_rates_are_written_as_decimal_strings():
    assert vat.format_rate(Decimal("19.00")) == "19.0"
    assert vat.format_rate(Decimal("25.50")) == "25.5"
    assert vat.format_rate(Decimal("0.00")) == "0"


# --- the buyer's country ------------------------------------------------------------------
def test_outside_the_eu_there_is_no_vat_but_the_country_is_kept(psp, client_for, user):
    order = placed(client_for(user), ProductFactory(price=1000), billing_country="US")
    assert amounts(order) == (1000, 0, 1000)
    assert order["tax_country"] == "US"
    assert order["items"][0]["vat_rate"] == "0"


def test_a_lower_case_country_is_normalised(psp, client_for, user):
    order = placed(client_for(user), ProductFactory(price=1000), billing_country="de")
    assert (order["tax_country"], order["billing_country"]) == ("DE", "DE")


def test_without_any_country_there_is_no_vat_and_no_tax_country(psp, client_for, user):
    order = placed(client_for(user), ProductFactory(price=1000))
    assert amounts(order) == (1000, 0, 1000)
    assert order["tax_country"] is None
    assert order["items"][0]["vat_rate"] == "0"


def test_vat_require_country_refuses_an_order_without_a_country(psp, client_for, user, settings):
    settings.VAT_REQUIRE_COUNTRY = True
    response = place(client_for(user), ProductFactory())
    assert response.status_code == 400
    assert response.json()["code"] == "billing_country_required"
    assert not Order.objects.exists()
    assert psp.calls == []


def test_the_profile_country_is_used_when_the_order_names_none(psp, client_for):
    buyer = UserFactory(country="IE")
    order = placed(client_for(buyer), ProductFactory(price=1000))
    assert (order["tax_country"], order["vat_amount"]) == ("IE", 230)
    assert order["billing_country"] == ""


def test_the_billing_country_wins_over_the_profile(psp, client_for):
    buyer = UserFactory(country="IE")
    order = placed(client_for(buyer), ProductFactory(price=1000), billing_country="DE")
    assert (order["tax_country"], order["vat_amount"]) == ("DE", 190)


def test_the_default_billing_country_comes_last(psp, client_for, user, settings):
    settings.DEFAULT_BILLING_COUNTRY = "FR"
    settings.VAT_REQUIRE_COUNTRY = True
    order = placed(client_for(user), ProductFactory(price=1000))
    assert (order["tax_country"], order["vat_amount"]) == ("FR", 200)


@pytest.mark.parametrize("country", ["XX", "ZZ", "FRA", "1", "EU", "UK"])
def test_an_unknown_country_is_refused(psp, client_for, user, country):
    response = place(client_for(user), ProductFactory(), billing_country=country)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_country"
    assert not Order.objects.exists()


# --- businesses ---------------------------------------------------------------------------
def test_a_business_of_another_member_state_reverse_charges(psp, client_for, user):
    order = placed(
        client_for(user),
        ProductFactory(price=1000),
        billing_country="DE",
        vat_number="DE 136.695.976",
    )
    assert amounts(order) == (1000, 0, 1000)
    assert (order["tax_country"], order["reverse_charge"]) == ("DE", True)
    assert order["items"][0]["vat_rate"] == "0"
    assert (order["vat_number"], order["vat_number_confirmed"]) == ("DE136695976", None)
    assert psp.calls_to("POST", "/payments")[0].body["amount"] == 1000


def test_the_vat_number_gives_the_country_when_nothing_else_does(psp, client_for, user):
    order = placed(client_for(user), ProductFactory(price=1000), vat_number="ATU13585627")
    assert (order["tax_country"], order["reverse_charge"]) == ("AT", True)


def test_a_number_without_prefix_takes_the_billing_countrys(psp, client_for, user):
    order = placed(client_for(user), ProductFactory(), billing_country="GR", vat_number="094259216")
    assert (order["vat_number"], order["tax_country"], order["reverse_charge"]) == (
        "EL094259216",
        "GR",
        True,
    )


def test_a_greek_number_written_with_gr_is_read_as_el(psp, client_for, user):
    order = placed(client_for(user), ProductFactory(), vat_number="GR094259216")
    assert (order["vat_number"], order["tax_country"]) == ("EL094259216", "GR")


def test_a_domestic_business_pays_domestic_vat(psp, client_for, user):
    order = placed(
        client_for(user),
        ProductFactory(price=1000),
        billing_country="FR",
        vat_number="FR40303265045",
    )
    assert amounts(order) == (1000, 200, 1200)
    assert (order["tax_country"], order["reverse_charge"]) == ("FR", False)
    assert order["vat_number"] == "FR40303265045"


@pytest.mark.parametrize(
    "billing_country, vat_number",
    [
        ("DE", "DE136695977"),  # bad check digit
        ("FR", "DE136695976"),  # prefix of another country than the billing one
        ("DE", "EL094259216"),  # Greece's number, a German billing country
        ("US", "DE136695976"),  # no EU VAT number outside the EU
        ("US", "123456789"),
        (None, "XI123456782"),  # Northern Ireland: not a member state for services
        (None, "136695976"),  # no prefix and no country
        ("DE", "not a number"),
    ],
)
def test_a_bad_vat_number_is_refused(psp, client_for, user, billing_country, vat_number):
    extra = {"vat_number": vat_number}
    if billing_country:
        extra["billing_country"] = billing_country
    response = place(client_for(user), ProductFactory(), **extra)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_vat_number"
    assert not Order.objects.exists()
    assert psp.calls == []


def test_vies_confirms_a_number(psp, vies, client_for, user):
    order = placed(client_for(user), ProductFactory(price=1000), vat_number="DE136695976")
    assert (order["reverse_charge"], order["vat_number_confirmed"]) == (True, True)
    assert vies.calls == [
        {"path": "/check-vat-number", "body": {"countryCode": "DE", "vatNumber": "136695976"}}
    ]


def test_vies_is_asked_with_greeces_el_prefix(psp, vies, client_for, user):
    placed(client_for(user), ProductFactory(), billing_country="GR", vat_number="EL094259216")
    assert vies.calls[0]["body"] == {"countryCode": "EL", "vatNumber": "094259216"}


def test_a_number_vies_says_is_invalid_is_refused(psp, vies, client_for, user):
    vies.mode = "invalid"
    response = place(client_for(user), ProductFactory(), vat_number="DE136695976")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_vat_number"
    assert not Order.objects.exists()


@pytest.mark.parametrize("mode", ["error", "timeout", "ms_unavailable"])
def test_vies_down_accepts_the_well_formed_number_unconfirmed(psp, vies, client_for, user, mode):
    vies.mode = mode
    order = placed(client_for(user), ProductFactory(price=1000), vat_number="DE136695976")
    assert (order["reverse_charge"], order["vat_number_confirmed"]) == (True, False)
    assert Order.objects.get(pk=order["id"]).vat_number_confirmed is False


def test_vies_unreachable_accepts_the_number_unconfirmed(psp, client_for, user, settings):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.VIES_URL = f"http://127.0.0.1:{port}"
    order = placed(client_for(user), ProductFactory(), vat_number="DE136695976")
    assert order["vat_number_confirmed"] is False


def test_a_bad_check_digit_never_reaches_vies(psp, vies, client_for, user):
    response = place(client_for(user), ProductFactory(), vat_number="DE136695977")
    assert response.status_code == 400
    assert vies.calls == []


# --- money: refunds, sellers, the ledger --------------------------------------------------
def pay(post_webhook, order: dict) -> None:
    response = post_webhook(
        {"event_type": "payment_succeeded", "payment_id": order["hyperswitch_payment_id"]}
    )
    assert response.status_code == 200


def test_a_partial_refund_returns_the_items_price_and_vat_and_debits_the_seller_its_net_share(
    psp, client_for, user, post_webhook
):
    seller_a, seller_b = CreatorFactory(), CreatorFactory()
    a = ProductFactory(seller=seller_a, price=1999)
    b = ProductFactory(seller=seller_b, price=1000)
    order = placed(client_for(user), a, b, billing_country="DE")
    assert amounts(order) == (2999, 380 + 190, 3569)
    pay(post_webhook, order)
    # The sellers earn on the net: 1999 − 199 and 1000 − 100, never the VAT.
    assert SellerBalance.objects.get(seller=seller_a).pending == 1800
    assert SellerBalance.objects.get(seller=seller_b).pending == 900

    item_a = next(i for i in order["items"] if i["product"]["id"] == str(a.id))
    response = client_for(user).post(
        f"{URL}/{order['id']}/refund", {"items": [item_a["id"]]}, format="json"
    )
    assert response.status_code == 200, response.content
    refund = response.json()["refund"]
    assert refund["amount"] == 2379
    [call] = psp.calls_to("POST", "/refunds")
    assert call.body["amount"] == 2379
    post_webhook({"event_type": "refund_succeeded", "refund_id": refund["id"]})

    stored = Order.objects.get(pk=order["id"])
    assert (stored.status, stored.refunded_amount) == ("partially_refunded", 2379)
    assert SellerBalance.objects.get(seller=seller_a).pending == 0
    assert SellerBalance.objects.get(seller=seller_b).pending == 900
    [debit] = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND_DEBIT)
    assert (debit.seller_id, debit.requested_amount) == (seller_a.pk, -1800)

    # The rest: exactly the other item's price + VAT, up to the order's total.
    response = client_for(user).post(f"{URL}/{order['id']}/refund", {}, format="json")
    assert response.json()["refund"]["amount"] == 1190
    post_webhook({"event_type": "refund_succeeded", "refund_id": response.json()["refund"]["id"]})
    stored.refresh_from_db()
    assert (stored.status, stored.refunded_amount) == ("refunded", stored.total_amount)
    call_command("check_ledger")


def test_check_ledger_reports_a_sale_credit_that_carries_vat(psp, client_for, user, post_webhook):
    from django.core.management.base import CommandError

    order = placed(client_for(user), ProductFactory(price=1000), billing_country="DE")
    pay(post_webhook, order)
    call_command("check_ledger")

    # A seller credited on the gross price (1190 − 10 %): balance and entries agree, yet the
    # seller got VAT.
    entry = LedgerEntry.objects.get(kind=LedgerEntry.Kind.SALE_CREDIT)
    tamper = LedgerEntry.objects.filter(pk=entry.pk)
    # Past the append-only guard, as a direct write to the table would be.
    QuerySet.update(tamper, requested_amount=1071, applied_amount=1071, pending_delta=1071)
    SellerBalance.objects.filter(seller_id=entry.seller_id).update(pending=1071)
    from payments.checks import sale_credit_differences

    assert sale_credit_differences() == [
        {
            "order_id": order["id"],
            "seller_id": str(entry.seller_id),
            "sale_credits": 1071,
            "net_share": 900,
        }
    ]
    with pytest.raises(CommandError, match="sale credit"):
        call_command("check_ledger")
    # Leave the ledger as the autouse consistency check expects it.
    QuerySet.update(tamper, requested_amount=900, applied_amount=900, pending_delta=900)
    SellerBalance.objects.filter(seller_id=entry.seller_id).update(pending=900)


# --- products priced for a country --------------------------------------------------------
def test_products_show_the_consumer_price_of_a_country(api_client, db):
    product = ProductFactory(price=1999)
    body = api_client.get("/api/v1/marketplace/products?country=de").json()
    [row] = body["results"]
    assert (row["vat_rate"], row["gross_price"]) == ("19.0", 2379)
    row = api_client.get(f"/api/v1/marketplace/products/{product.id}?country=US").json()
    assert (row["vat_rate"], row["gross_price"]) == ("0", 1999)
    row = api_client.get(f"/api/v1/marketplace/products/{product.id}").json()
    assert (row["vat_rate"], row["gross_price"]) == (None, None)


def test_products_with_an_unknown_country_are_400(api_client, db):
    ProductFactory()
    response = api_client.get("/api/v1/marketplace/products?country=ZZ")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_country"


def test_a_business_vat_number_wins_over_the_profile_country(psp, client_for):
    """The profile says France, the order gives a German VAT number and no billing country:
    the business is German, so it reverse-charges (only a billing country given with the
    order must match the number)."""
    buyer = UserFactory(country="FR")
    order = placed(client_for(buyer), ProductFactory(price=1000), vat_number="DE136695976")
    assert (order["tax_country"], order["reverse_charge"], order["vat_amount"]) == ("DE", True, 0)
    refused = place(
        client_for(buyer), ProductFactory(), billing_country="FR", vat_number="DE136695976"
    )
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_vat_number"
