"""EU VAT on what the marketplace sells: the standard rate of the buyer's member state on the
day of the order, the VAT of an item, and who pays it (a consumer, or a business under the
reverse charge).

Veza is the deemed supplier of the electronic services its marketplace sells, so the VAT is
the platform's: prices are net, sellers earn on the net, and the buyer pays net + VAT.

The rates are data kept in the code, dated: a rate applies from its ``since`` day (UTC) until
the next one of the same country. Sources: the European Commission's "VAT rates applied in the
Member States of the European Union" (DG TAXUD, the edition of 1 July 2025) and its Taxes in
Europe Database (ec.europa.eu/taxation_customs/tedb), checked against the national acts of
each change noted below. The table is exact from 2020-01-01; an earlier day takes a country's
first rate.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from stdnum.eu import vat as eu_vat
from stdnum.util import clean

from marketplace import errors, vies
from veza.countries import EU_MEMBER_STATES, country_code, country_of_vat_prefix, in_eu, vat_prefix

TABLE_START = date(2020, 1, 1)
ZERO = Decimal("0")


def _rates(*changes: tuple[date, str]) -> tuple[tuple[date, Decimal], ...]:
    return tuple((since, Decimal(rate)) for since, rate in changes)


# country → ((since, standard rate %), ...), oldest first.
STANDARD_RATES: dict[str, tuple[tuple[date, Decimal], ...]] = {
    "AT": _rates((TABLE_START, "20")),
    "BE": _rates((TABLE_START, "21")),
    "BG": _rates((TABLE_START, "20")),
    "CY": _rates((TABLE_START, "19")),
    "CZ": _rates((TABLE_START, "21")),
    # 16 % for the second half of 2020 (Zweites Corona-Steuerhilfegesetz).
    "DE": _rates((TABLE_START, "19"), (date(2020, 7, 1), "16"), (date(2021, 1, 1), "19")),
    "DK": _rates((TABLE_START, "25")),
    # Käibemaksuseadus amendments: 22 % from 2024, 24 % from July 2025.
    "EE": _rates((TABLE_START, "20"), (date(2024, 1, 1), "22"), (date(2025, 7, 1), "24")),
    "ES": _rates((TABLE_START, "21")),
    # Arvonlisäverolaki amendment (HE 76/2024): 25.5 % from 1 September 2024.
    "FI": _rates((TABLE_START, "24"), (date(2024, 9, 1), "25.5")),
    "FR": _rates((TABLE_START, "20")),
    "GR": _rates((TABLE_START, "24")),
    "HR": _rates((TABLE_START, "25")),
    "HU": _rates((TABLE_START, "27")),
    # 21 % from September 2020 to February 2021 (Finance Act 2020, the July stimulus).
    "IE": _rates((TABLE_START, "23"), (date(2020, 9, 1), "21"), (date(2021, 3, 1), "23")),
    "IT": _rates((TABLE_START, "22")),
    "LT": _rates((TABLE_START, "21")),
    # 16 % during 2023 only (loi du 26 octobre 2022), 17 % again from 2024.
    "LU": _rates((TABLE_START, "17"), (date(2023, 1, 1), "16"), (date(2024, 1, 1), "17")),
    "LV": _rates((TABLE_START, "21")),
    "MT": _rates((TABLE_START, "18")),
    "NL": _rates((TABLE_START, "21")),
    "PL": _rates((TABLE_START, "23")),
    "PT": _rates((TABLE_START, "23")),
    # Legea 141/2025: 21 % from 1 August 2025.
    "RO": _rates((TABLE_START, "19"), (date(2025, 8, 1), "21")),
    "SE": _rates((TABLE_START, "25")),
    "SI": _rates((TABLE_START, "22")),
    # Zákon 530/2024: 23 % from 1 January 2025.
    "SK": _rates((TABLE_START, "20"), (date(2025, 1, 1), "23")),
}
assert set(STANDARD_RATES) == EU_MEMBER_STATES, "one rate history per member state"


def utc_today() -> date:
    return datetime.now(UTC).date()


def standard_rate(country: str | None, day: date | None = None) -> Decimal:
    """The standard rate (a percentage) in force in ``country`` on ``day`` (UTC, default
    today); 0 outside the EU or without a country."""
    history = STANDARD_RATES.get(country or "")
    if history is None:
        return ZERO
    day = day or utc_today()
    rate = history[0][1]
    for since, value in history:
        if since <= day:
            rate = value
    return rate


def vat_of(price: int, rate: Decimal) -> int:
    """The VAT of a net ``price`` in minor units: half a cent rounds up (1.275 → 1, 0.5 → 1)."""
    return int((Decimal(price) * rate / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_rate(rate: Decimal) -> str:
    """A rate as the API writes it: ``"19.0"``, ``"25.5"``, and ``"0"`` for none."""
    if rate == 0:
        return "0"
    text = format(rate.normalize(), "f")
    return text if "." in text else f"{text}.0"


def parse_country(value) -> str:
    """A client's country code, upper case; raises ``InvalidCountry`` when it names none."""
    code = country_code(value)
    if code is None:
        raise errors.InvalidCountry()
    return code


@dataclass(frozen=True)
class TaxTreatment:
    """How an order is taxed, decided once before its items are priced."""

    billing_country: str
    tax_country: str | None
    rate: Decimal
    reverse_charge: bool = False
    vat_number: str = ""
    vat_number_confirmed: bool | None = None

    def vat_of(self, price: int) -> int:
        return vat_of(price, self.rate)


def tax_treatment(
    *, buyer, billing_country: str = "", vat_number: str = "", day: date | None = None
) -> TaxTreatment:
    """Where the VAT of an order is due, at which rate, and whether the buyer reverse-charges.

    The country is the order's ``billing_country``, else the buyer's profile ``country``, else
    ``DEFAULT_BILLING_COUNTRY``. A business's VAT number says where it is established: a
    ``billing_country`` given with the order must match its prefix; without one, the prefix is
    the order's country (the profile's or the default country only completes a number given
    without its prefix). May call VIES: never inside a transaction.
    """
    given = parse_country(billing_country) if billing_country else ""
    country = given or buyer.country or settings.DEFAULT_BILLING_COUNTRY or None
    number = None
    if vat_number:
        number = _checked_vat_number(vat_number, given or None, default_prefix=country)
        country = given or country_of_vat_prefix(number[:2])
    if country is None:
        if settings.VAT_REQUIRE_COUNTRY:
            raise errors.BillingCountryRequired()
        return TaxTreatment(billing_country="", tax_country=None, rate=ZERO)
    day = day or utc_today()
    if number is None:
        return TaxTreatment(
            billing_country=given, tax_country=country, rate=standard_rate(country, day)
        )
    confirmed = _confirm_with_vies(number)
    if country == settings.PLATFORM_COUNTRY:  # a domestic business pays VAT like a consumer
        rate, reverse_charge = standard_rate(country, day), False
    else:
        rate, reverse_charge = ZERO, True
    return TaxTreatment(
        billing_country=given,
        tax_country=country,
        rate=rate,
        reverse_charge=reverse_charge,
        vat_number=number,
        vat_number_confirmed=confirmed,
    )


def _checked_vat_number(
    value: str, country: str | None, *, default_prefix: str | None = None
) -> str:
    """The number compacted (``DE 136.695.976`` → ``DE136695976``), its prefix ``country``'s
    (the billing country given) or, for a number given without one, ``default_prefix``'s, and
    its check digits right; else ``InvalidVatNumber``. Only EU member states issue the numbers
    checked here: a non-EU country with a VAT number is refused rather than silently taxed as
    a consumer."""
    number = clean(value, " -./,").upper().strip()
    if country is not None and not in_eu(country):
        raise errors.InvalidVatNumber(
            f"{country} is not an EU member state: an EU VAT number cannot be used there."
        )
    if not number[:2].isalpha():
        prefix_of = country or default_prefix
        if prefix_of is None:
            raise errors.InvalidVatNumber("Give the VAT number with its country prefix.")
        if not in_eu(prefix_of):
            raise errors.InvalidVatNumber(
                f"{prefix_of} is not an EU member state: an EU VAT number cannot be used there."
            )
        number = vat_prefix(prefix_of) + number
    if number.startswith("GR"):  # Greece's ISO code, where its VAT prefix is EL
        number = "EL" + number[2:]
    prefix_country = country_of_vat_prefix(number[:2])
    if not in_eu(prefix_country):
        raise errors.InvalidVatNumber(f"{number[:2]} is not the prefix of an EU member state.")
    if country is not None and prefix_country != country:
        raise errors.InvalidVatNumber(
            f"The VAT number is from {prefix_country}, the billing country is {country}."
        )
    if not eu_vat.is_valid(number):
        raise errors.InvalidVatNumber()
    return eu_vat.compact(number)


def _confirm_with_vies(number: str) -> bool | None:
    """True: VIES knows the number; False: VIES could not be asked (the well-formed number is
    accepted, unconfirmed); None: no ``VIES_URL``. A number VIES says is invalid is refused."""
    if not settings.VIES_URL:
        return None
    outcome = vies.check_vat_number(country_code=number[:2], vat_number=number[2:])
    if outcome == vies.ViesOutcome.INVALID:
        raise errors.InvalidVatNumber("The EU's VIES service does not know this VAT number.")
    return outcome == vies.ViesOutcome.VALID
