"""The track list without DRF's per-field machinery.

Profiled (cProfile, CPU time), a built page went to ``TrackOutput`` (a field copy,
``get_attribute`` and ``to_representation`` per field per row, model instances for each track
and its creator), django-filter's per-request FilterSet and form, and the ORM's clones. The list
reads plain rows with ``values()`` — the page and its creators in one query — filters and orders
them by the same rules as ``TrackFilter`` and DRF's ``OrderingFilter``, and turns each row into
exactly the dict ``TrackOutput`` gives (same keys in the same order, the same strings for ids
and datetimes, the same nulls), rendered by orjson (``veza.fastjson``).
``tests/tracks/test_lean_list.py`` holds the output byte for byte to the serializer's.
"""

from django.db.models import QuerySet

from tracks import selectors
from tracks.api.filters import by_creator, by_text
from tracks.models import Track
from veza.fastjson import datetime_text, output_zone

# The columns a row of the list needs (``liked_by_me`` is added for a signed-in caller).
COLUMNS = (
    "id",
    "title",
    "artist",
    "album",
    "genre",
    "description",
    "duration_seconds",
    "format",
    "file_size",
    "status",
    "is_public",
    "is_downloadable",
    "creator_id",
    "creator__username",
    "stream_url",
    "like_count",
    "play_count",
    "created_at",
    "updated_at",
)
FILTERS = ("genre", "creator", "q")
READY = Track.Status.READY.value


def rows(*, user, owns_hidden: bool) -> QuerySet:
    return selectors.track_list_rows(user=user, owns_hidden=owns_hidden, columns=COLUMNS)


def filter_and_order(queryset: QuerySet, params, *, ordering_fields, default_ordering):
    """``TrackFilter`` then ``OrderingFilter`` on ``params`` (the query string), without a
    FilterSet and its form per request. None for a value holding a NUL character, which the
    FilterSet's form refuses (400): the caller lets DRF's backends answer that."""
    values = {}
    for name in FILTERS:
        raw = params.get(name)
        if raw is None:
            continue
        if "\x00" in raw:
            return None
        values[name] = raw.strip()  # as the form's CharField cleans it
    if values.get("genre"):
        queryset = queryset.filter(genre__iexact=values["genre"])
    if values.get("creator"):
        queryset = by_creator(queryset, values["creator"])
    if values.get("q"):
        queryset = by_text(queryset, values["q"])
    return queryset.order_by(*_ordering(params.get("ordering"), ordering_fields, default_ordering))


def _ordering(param: str | None, valid: list[str], default: list[str]) -> list[str]:
    """DRF's OrderingFilter: the comma-separated terms naming a valid field, else the
    default."""
    if param:
        terms = [term.strip() for term in param.split(",")]
        chosen = [term for term in terms if term.removeprefix("-") in valid]
        if chosen:
            return chosen
    return list(default)


def track_dicts(page_rows) -> list[dict]:
    """Each row as ``TrackOutput`` renders the track (see the module's docstring)."""
    zone = output_zone()
    return [_track(row, zone) for row in page_rows]


def _track(row: dict, zone) -> dict:
    status = row["status"]
    stream_url = row["stream_url"]
    return {
        "id": str(row["id"]),
        "title": row["title"],
        "artist": row["artist"],
        "album": row["album"],
        "genre": row["genre"],
        "description": row["description"],
        "duration_seconds": row["duration_seconds"],
        "format": row["format"],
        "file_size": row["file_size"],
        "status": status,
        "is_public": row["is_public"],
        "is_downloadable": row["is_downloadable"],
        "creator": {"id": str(row["creator_id"]), "username": row["creator__username"]},
        # TrackOutput.get_stream_url: null until the track is ready and has one.
        "stream_url": stream_url if status == READY and stream_url else None,
        "like_count": row["like_count"],
        "play_count": row["play_count"],
        "liked_by_me": bool(row.get("liked_by_me", False)),
        "created_at": datetime_text(row["created_at"], zone),
        "updated_at": datetime_text(row["updated_at"], zone),
    }


def page_body(paginator, results: list[dict]) -> dict:
    """The paginated envelope, as ``VezaPagination.get_paginated_response`` builds it."""
    body = {
        "count": paginator.page.paginator.count,
        "next": paginator.get_next_link(),
        "previous": paginator.get_previous_link(),
        "results": results,
    }
    if getattr(paginator.page.paginator, "count_is_estimate", False):
        body["count_is_estimate"] = True
    return body
