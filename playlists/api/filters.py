import uuid

import django_filters
from django.db.models import Q

from playlists.models import Playlist


class PlaylistFilter(django_filters.FilterSet):
    owner = django_filters.CharFilter(method="filter_owner", help_text="User id or username.")
    q = django_filters.CharFilter(method="filter_q", help_text="Searches title and description.")

    class Meta:
        model = Playlist
        fields = ["owner", "q"]

    def filter_owner(self, queryset, name, value):
        try:
            return queryset.filter(owner_id=uuid.UUID(value))
        except ValueError:
            return queryset.filter(owner__username__iexact=value)

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(description__icontains=value))
