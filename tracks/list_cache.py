"""Pages of the public track list, kept briefly in the cache (Redis in deployment).

Every visitor without credentials sees the same page for the same query, so it is built once
and served from the cache until the catalogue changes. Each write of the tracks services calls
``catalogue_changed()``, which moves a version number after the commit; every entry carries the
version it was built under, read with it in one round trip, so a changed catalogue is never
served from an older entry. Changes made outside the services (a username renamed, the Django
admin) show within ``TRACK_LIST_CACHE_SECONDS``.

A signed-in caller sees the same rows as a visitor unless they own a track a visitor cannot
see (private, or not ready yet). For everyone else the shared page is served too, with the
caller's own ``liked_by_me`` read fresh for its rows: whether a caller owns such a track is
itself kept under the catalogue's version, so it is asked at most once per change.
"""

import hashlib
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from tracks import selectors
from veza.fastjson import dumps, json_response, loads

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
    """The cache entries one list request may use, read with the version in one round trip.

    Each entry is ``(version, value)``: one written under an older version than the current
    one is a miss. ``body`` is the shared page as rendered JSON (None on a miss);
    ``owns_hidden`` whether the caller owns a track visitors cannot see (None when unknown or
    anonymous).
    """

    def __init__(self, request):
        params = sorted(request.query_params.lists())
        raw = f"{request.scheme}://{request.get_host()}{request.path}|{params!r}"
        self.key = f"veza:tracks:anon-page:{hashlib.sha256(raw.encode()).hexdigest()}"
        user = request.user
        self.owner_key = f"veza:tracks:owns-hidden:{user.pk}" if user.is_authenticated else None
        keys = [VERSION_KEY, self.key]
        if self.owner_key is not None:
            keys.append(self.owner_key)
        found = cache.get_many(keys)
        self.version = found.get(VERSION_KEY, 0)
        self.body = self._current(found.get(self.key))
        self.owns_hidden = self._current(found.get(self.owner_key)) if self.owner_key else None

    def _current(self, entry):
        if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == self.version:
            return entry[1]
        return None

    def put(self, body: bytes) -> None:
        cache.set(self.key, (self.version, body), timeout=settings.TRACK_LIST_CACHE_SECONDS)

    def remember_owner(self, owns_hidden: bool) -> None:
        self.owns_hidden = owns_hidden
        cache.set(
            self.owner_key,
            (self.version, owns_hidden),
            timeout=settings.TRACK_LIST_CACHE_SECONDS,
        )


def serve(request, *, build: Callable[..., dict]):
    """The list's answer through the shared page: ``build(owns_hidden=...)`` makes a page's
    body (plain JSON types) from the database; it is rendered once, by orjson."""
    user = request.user
    if not enabled() or (request.auth is not None and not user.is_authenticated):
        return json_response(dumps(build()))
    shared = SharedPage(request)
    if not user.is_authenticated:
        if shared.body is not None:  # already rendered: sent as it is
            return json_response(shared.body)
        body = dumps(build())
        shared.put(body)
        return json_response(body)
    if shared.owns_hidden is None:
        shared.remember_owner(selectors.owns_hidden_track(user=user))
    if shared.owns_hidden:
        return json_response(dumps(build()))
    if shared.body is not None:
        return json_response(dumps(_with_likes(loads(shared.body), user)))
    page = build(owns_hidden=False)
    shared.put(dumps(_without_likes(page)))
    return json_response(dumps(page))


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
