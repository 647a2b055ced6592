import uuid

import django_filters
from django.db.models import Q

from tracks.models import Track


def by_creator(queryset, value: str):
    """A user id, else a username (any case, unique so), resolved to the user's id first (one
    indexed lookup): PostgreSQL then plans ``creator_id`` against one known value and walks the
    creator's ``(creator, -created_at)`` index. Joined on the username instead, it fetched and
    sorted every track of the creator (355 ms at 1 M tracks for a creator of 200,000), and a
    scalar subquery walked the whole catalogue for an unknown name (551 ms)."""
    try:
        return queryset.filter(creator_id=uuid.UUID(value))
    except ValueError:
        users = Track._meta.get_field("creator").related_model.objects
        found = list(users.filter(username__iexact=value).values_list("pk", flat=True)[:1])
        return queryset.filter(creator_id=found[0]) if found else queryset.none()


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
