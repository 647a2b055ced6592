"""Pages of the public track list, kept briefly in the cache (Redis in deployment).

Every visitor without credentials sees the same page for the same query, so it is built once
and served from the cache until the catalogue changes. Each write of the tracks services calls
``catalogue_changed()``, which moves a version number after the commit; the version is part of
every key, so a changed catalogue is never served from an older entry. Changes made outside
the services (a username renamed, the Django admin) show within ``TRACK_LIST_CACHE_SECONDS``.

A signed-in caller sees the same rows as a visitor unless they own a track a visitor cannot
see (private, or not ready yet). For everyone else the shared page is served too, with the
caller's own ``liked_by_me`` read fresh for its rows: whether a caller owns such a track is
itself kept under the catalogue's version, so it is asked at most once per change.
"""

import hashlib
import json
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from rest_framework.response import Response

from tracks import selectors

VERSION_KEY = "veza:tracks:list-version"


def enabled() -> bool:
    return settings.TRACK_LIST_CACHE_SECONDS > 0


def catalogue_changed() -> None:
    """Call inside the write's transaction: the version moves once the write is visible."""
    transaction.on_commit(_bump_version)


def _bump_version() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # no version yet (or the cache was emptied)
        cache.set(VERSION_KEY, 1, timeout=None)


class SharedPage:
    """The cache entries one list request may use: the version, then both entries at once.

    ``body`` is the shared page as rendered JSON (None on a miss); ``owns_hidden`` whether
    the caller owns a track visitors cannot see (None when unknown or anonymous).
    """

    def __init__(self, request):
        version = cache.get(VERSION_KEY, 0)
        params = sorted(request.query_params.lists())
        raw = f"{request.scheme}://{request.get_host()}{request.path}|{params!r}"
        self.key = f"veza:tracks:anon-page:{version}:{hashlib.sha256(raw.encode()).hexdigest()}"
        user = request.user
        self.owner_key = (
            f"veza:tracks:owns-hidden:{version}:{user.pk}" if user.is_authenticated else None
        )
        keys = [self.key] if self.owner_key is None else [self.key, self.owner_key]
        found = cache.get_many(keys)
        self.body = found.get(self.key)
        self.owns_hidden = found.get(self.owner_key) if self.owner_key else None

    def put(self, body: bytes) -> None:
        cache.set(self.key, body, timeout=settings.TRACK_LIST_CACHE_SECONDS)

    def remember_owner(self, owns_hidden: bool) -> None:
        self.owns_hidden = owns_hidden
        cache.set(self.owner_key, owns_hidden, timeout=settings.TRACK_LIST_CACHE_SECONDS)


def serve(
    request,
    *,
    build: Callable[..., Response],
    render: Callable[[dict], bytes],
):
    """The list's answer through the shared page: ``build(owns_hidden=...)`` makes a page from
    the database, ``render`` turns its data into the bytes kept in the cache."""
    user = request.user
    if not enabled() or (request.auth is not None and not user.is_authenticated):
        return build()
    shared = SharedPage(request)
    if not user.is_authenticated:
        if shared.body is not None:  # already rendered: sent as it is
            return HttpResponse(shared.body, content_type=request.accepted_renderer.media_type)
        response = build()
        shared.put(render(response.data))
        return response
    if shared.owns_hidden is None:
        shared.remember_owner(selectors.owns_hidden_track(user=user))
    if shared.owns_hidden:
        return build()
    if shared.body is not None:
        return Response(_with_likes(json.loads(shared.body), user))
    response = build(owns_hidden=False)
    shared.put(render(_without_likes(response.data)))
    return response


def _without_likes(body: dict) -> dict:
    shared = dict(body)
    shared["results"] = [{**row, "liked_by_me": False} for row in body["results"]]
    return shared


def _with_likes(body: dict, user) -> dict:
    liked = selectors.liked_among(user=user, track_ids=[row["id"] for row in body["results"]])
    liked = {str(track_id) for track_id in liked}
    for row in body["results"]:
        row["liked_by_me"] = row["id"] in liked
    return body
