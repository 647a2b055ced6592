"""``{% load money %}`` then ``{{ refund.amount|money:refund.currency }}``."""

from django import template

from veza.money import format_money

register = template.Library()


@register.filter(name="money")
def money_filter(amount, currency):
    return format_money(amount, currency)


@register.filter(name="signed_money")
def signed_money_filter(amount, currency):
    return format_money(amount, currency, signed=True)
