"""What authentication needs to know about a token's session and user, kept in the cache.

Every authenticated request used to load the session joined to its user (one statement, and
the connection's health check before it) to learn four facts: the session is live, the user
is active, the token's ``token_version`` is the user's, and the user's role. Those facts
change rarely and only through known paths, so they are cached per session, with
invalidation that keeps revocation immediate:

- each user has a *generation* in the cache, a random token. An entry is written under the
  generation read before the database was, and is used only while the generation is the same;
- ``forget(user_id)`` gives the user a new generation — at once and again after the current
  transaction commits — so any entry written before, including one filled from the database
  while the change was being committed, is never used again. It is called by every change of
  those facts: a session ended (one, or all: logout, password change or reset, token_version
  bump, role change), any save or deletion of the user (deactivation, staff flags, erasure,
  the admin), and the deletion of a session;
- the generation and the entry come back in one round trip (``get_many``); a miss, or a cache
  that does not answer, falls back to the database, as before.

Only the facts above are cached (``FIELDS``): the user handed to the view is a model instance
whose other fields are loaded from the database, all at once, the first time one is read. The
list of tracks never reads them; the profile does, and gets them fresh.

A generation is random rather than a counter so that an evicted generation can never come back
with a value an old entry carries.
"""

import functools
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import router, transaction

# The user's columns an entry holds: what authentication and permissions read on every request.
FIELDS = ("id", "token_version", "is_active", "role", "is_staff", "is_superuser")
# A generation outlives any entry written under it.
GENERATION_SECONDS = 24 * 3600


def _generation_key(user_id) -> str:
    return f"veza:auth:generation:{user_id}"


def _entry_key(session_id) -> str:
    return f"veza:auth:session:{session_id}"


class Cached:
    """One lookup: ``entry`` is a dict (``user`` values, ``last_used_at``) when the cache holds
    a current one; ``generation`` is what a fill must write its entry under (None: the cache
    did not answer, write nothing)."""

    def __init__(self, user_id: str, session_id: str):
        self.user_id = user_id
        self.session_id = session_id
        if settings.AUTH_CACHE_SECONDS <= 0:
            self.generation, self.entry = None, None
            return
        keys = [_generation_key(user_id), _entry_key(session_id)]
        found = cache.get_many(keys)
        self.generation = found.get(keys[0])
        entry = found.get(keys[1])
        current = (
            isinstance(entry, dict)
            and self.generation is not None
            and entry.get("generation") == self.generation
            and entry.get("user_id") == user_id
        )
        self.entry = entry if current else None
        if self.entry is None and self.generation is None:
            # Before the database is read: a change committed after this read moves it.
            self.generation = _new_generation(user_id)

    def user(self):
        """The entry's user: the cached fields loaded, every other deferred and read from the
        database together, the first time one of them is."""
        User = get_user_model()  # noqa: N806 - the model class; accounts.models imports us

        user = User.from_db(router.db_for_read(User), _columns(), self.entry["values"])
        user._load_deferred_together = True
        return user

    def store(self, *, user, last_used_at) -> None:
        """Remember a session and its user just read from the database."""
        if self.generation is None:  # the cache is off, or did not answer
            return
        cache.set(
            _entry_key(self.session_id),
            {
                "generation": self.generation,
                "user_id": self.user_id,
                "values": tuple(getattr(user, name) for name in _columns()),
                "last_used_at": last_used_at,
            },
            timeout=settings.AUTH_CACHE_SECONDS,
        )


@functools.cache
def _columns() -> tuple[str, ...]:
    """``FIELDS`` in the model's order, the order ``Model.from_db`` assigns values in."""
    fields = get_user_model()._meta.concrete_fields
    return tuple(f.attname for f in fields if f.attname in FIELDS)


def _new_generation(user_id) -> str | None:
    """The user's generation, created when there is none (None when the cache is down)."""
    key = _generation_key(user_id)
    cache.add(key, secrets.token_hex(8), timeout=GENERATION_SECONDS)
    return cache.get(key)


def forget(user_id) -> None:
    """Every cached authentication of the user is stale: now, and again once the current
    transaction commits (an entry filled from the database in between is dropped too)."""
    _bump(user_id)
    transaction.on_commit(lambda: _bump(user_id))


def _bump(user_id) -> None:
    cache.set(_generation_key(user_id), secrets.token_hex(8), timeout=GENERATION_SECONDS)
