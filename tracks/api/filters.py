import uuid

import django_filters
from django.db.models import Q

from tracks.models import Track


class TrackFilter(django_filters.FilterSet):
    genre = django_filters.CharFilter(field_name="genre", lookup_expr="iexact")
    creator = django_filters.CharFilter(method="filter_creator", help_text="User id or username.")
    q = django_filters.CharFilter(method="filter_q", help_text="Searches title, artist, album.")

    class Meta:
        model = Track
        fields = ["genre", "creator", "q"]

    def filter_creator(self, queryset, name, value):
        try:
            return queryset.filter(creator_id=uuid.UUID(value))
        except ValueError:
            return queryset.filter(creator__username__iexact=value)

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(title__icontains=value) | Q(artist__icontains=value) | Q(album__icontains=value)
        )
