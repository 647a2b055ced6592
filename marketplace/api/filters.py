import uuid

import django_filters
from django.db.models import Q

from marketplace.models import Product


class ProductFilter(django_filters.FilterSet):
    product_type = django_filters.ChoiceFilter(choices=Product.Type.choices)
    seller = django_filters.CharFilter(method="filter_seller", help_text="seller id or username")
    q = django_filters.CharFilter(method="filter_q", help_text="search title and description")
    currency = django_filters.CharFilter()
    min_price = django_filters.NumberFilter(field_name="price", lookup_expr="gte")
    max_price = django_filters.NumberFilter(field_name="price", lookup_expr="lte")

    class Meta:
        model = Product
        fields = ["product_type", "seller", "q", "currency"]

    def filter_seller(self, queryset, name, value):
        try:
            return queryset.filter(seller_id=uuid.UUID(value))
        except ValueError:
            return queryset.filter(seller__username__iexact=value)

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(title__icontains=value) | Q(description__icontains=value))
