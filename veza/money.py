"""Money for people: the one place minor units become a displayed amount.

Amounts are stored as integer minor units; the currency's own number of decimals (0 for
JPY, 2 for EUR, 3 for KWD) comes from the CLDR data through Babel, never from ``/ 100``.
"""

from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision

DISPLAY_LOCALE = "en"


def to_major(amount: int, currency: str) -> Decimal:
    """``4999, "EUR"`` → ``Decimal("49.99")``; exact, whatever the currency's decimals."""
    return Decimal(int(amount)).scaleb(-get_currency_precision(currency.upper()))


def format_money(amount: int | None, currency: str | None, *, signed: bool = False) -> str:
    """``4999, "EUR"`` → ``"€49.99"``; negative amounts keep their sign; ``None`` → ``"—"``.

    ``signed`` also shows a ``+`` on credits, for ledgers where the direction matters.
    """
    if amount is None or not currency:
        return "—"
    text = format_currency(to_major(amount, currency), currency.upper(), locale=DISPLAY_LOCALE)
    if signed and amount > 0:
        return f"+{text}"
    return text
