"""``{% load admin_ids %}`` then ``{{ refund.pk|short_id }}``: ids as the back-office shows them."""

from django import template

from veza.admin_tools import short_id

register = template.Library()
register.filter(name="short_id", filter_func=short_id)
