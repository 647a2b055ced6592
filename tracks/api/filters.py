import uuid

import django_filters
from django.db.models import Q

from tracks.models import Track


def by_creator(queryset, value: str):
    """A user id, else a username (any case)."""
    try:
        return queryset.filter(creator_id=uuid.UUID(value))
    except ValueError:
        return queryset.filter(creator__username__iexact=value)


def by_text(queryset, value: str):
    """Title, artist or album containing ``value``, any case (trigram indexes)."""
    value = value.strip()
    if not value:
        return queryset
    return queryset.filter(
        Q(title__icontains=value) | Q(artist__icontains=value) | Q(album__icontains=value)
    )


class TrackFilter(django_filters.FilterSet):
    # The list applies these itself (tracks.api.lean.filter_and_order, the same rules without
    # the form machinery); the class documents them in the schema and checks odd input.
    genre = django_filters.CharFilter(field_name="genre", lookup_expr="iexact")
    creator = django_filters.CharFilter(method="filter_creator", help_text="User id or username.")
    q = django_filters.CharFilter(method="filter_q", help_text="Searches title, artist, album.")

    class Meta:
        model = Track
        fields = ["genre", "creator", "q"]

    def filter_creator(self, queryset, name, value):
        return by_creator(queryset, value)

    def filter_q(self, queryset, name, value):
        return by_text(queryset, value)
