"""Anonymous pages of the public track list, kept briefly in the cache (Redis in deployment).

Every visitor without credentials sees the same page for the same query, so it is built once
and served from the cache until the catalogue changes. Each write of the tracks services calls
``catalogue_changed()``, which moves a version number after the commit; the version is part of
every key, so a changed catalogue is never served from an older entry. Changes made outside
the services (a username renamed, the Django admin) show within ``TRACK_LIST_CACHE_SECONDS``.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

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


def page_key(request) -> str:
    """Scheme, host and query string shape the body (its next/previous links, its rows)."""
    version = cache.get(VERSION_KEY, 0)
    params = sorted(request.query_params.lists())
    raw = f"{request.scheme}://{request.get_host()}{request.path}|{params!r}"
    return f"veza:tracks:anon-page:{version}:{hashlib.sha256(raw.encode()).hexdigest()}"


def get(key: str):
    return cache.get(key)


def put(key: str, body) -> None:
    cache.set(key, body, timeout=settings.TRACK_LIST_CACHE_SECONDS)
