"""Countries as ISO 3166-1 alpha-2 codes, checked against pycountry's copy of the standard
(never a hand-kept list of the world's countries), and the EU's member states, which are ours
to keep: membership is a political fact that no ISO table records."""

import pycountry

# The 27 member states (since 2020-02-01, the United Kingdom's exit). Greece's VAT numbers
# carry the prefix EL, not its ISO code GR (Directive 2006/112/EC, Article 215).
# fmt: off
EU_MEMBER_STATES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})
# fmt: on
VAT_PREFIX_OF = {"GR": "EL"}
COUNTRY_OF_VAT_PREFIX = {prefix: country for country, prefix in VAT_PREFIX_OF.items()}


def country_code(value) -> str | None:
    """``value`` as an upper-case ISO 3166-1 alpha-2 code, or None when it names no country
    (``XX``, ``ZZ``, ``FRA``, ``""``). Lower case is accepted: ``de`` → ``DE``."""
    if not isinstance(value, str):
        return None
    code = value.strip().upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        return None
    return code if pycountry.countries.get(alpha_2=code) is not None else None


# What country_code() accepts, for the OpenAPI schema's enums: every code, in either case.
ACCEPTED_CODES = sorted(
    {country.alpha_2 for country in pycountry.countries}
    | {country.alpha_2.lower() for country in pycountry.countries}
)


def in_eu(country: str | None) -> bool:
    return country in EU_MEMBER_STATES


def vat_prefix(country: str) -> str:
    """The prefix of the country's VAT numbers: its ISO code, except Greece's ``EL``."""
    return VAT_PREFIX_OF.get(country, country)


def country_of_vat_prefix(prefix: str) -> str:
    return COUNTRY_OF_VAT_PREFIX.get(prefix, prefix)
