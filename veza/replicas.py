"""Read replicas: the public catalogue's reads on a streaming replica, everything else on the
primary (README "Scaling out").

Three pieces, all inert while ``DATABASE_REPLICA_URLS`` is unset (no replica alias exists):

- ``CatalogueReadMiddleware`` marks a request as a public catalogue read (GET/HEAD of a track,
  playlist, product or profile list or detail, by resolved URL name) in a contextvar, unless the
  client wrote within ``REPLICA_STICKY_SECONDS``. After a client's write it records that write
  in a signed cookie *and* under the user's id in the shared cache, so the client's next reads
  go to the primary on whichever web replica they land (never a process-local flag).
- ``ReplicaRouter`` reads the contextvar: a marked request reads from a healthy replica, every
  other read and every write goes to ``default`` (the primary). Money, permission checks on
  writes, tasks and the admin never see a replica.
- ``replica_states`` probes each replica (reachable? replay lag? replayed up to where?) at most
  once a second per process; a replica that is down or lags beyond ``REPLICA_MAX_LAG_SECONDS``
  is skipped, and ``/readyz`` and ``/status`` show each one's state.
- No stale page for anybody, not only the writer: after every write request the primary's WAL
  position is kept in Redis (the highest one); a catalogue read uses a replica only once that
  replica has replayed up to it (probed again, at most every 20 ms, while it is behind). Without
  it, a visitor's read a millisecond after a change would read the replica before replay and
  put the old page in the shared track-list cache under the catalogue's new version
  (tracks.list_cache), serving it for TRACK_LIST_CACHE_SECONDS. Writes made outside requests
  (tasks) reach readers within the replica's lag.
"""

import contextvars
import itertools
import logging
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

import jwt
from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.urls import Resolver404, resolve

logger = logging.getLogger(__name__)

REPLICA_ALIAS_PREFIX = "replica_"
# Named routes whose GET is the public catalogue: lists and details of tracks, playlists,
# products, and public profiles. Anything else (orders, downloads, "me") reads the primary.
CATALOGUE_ROUTES = frozenset(
    {
        "track-list",
        "track-detail",
        "playlist-list",
        "playlist-detail",
        "product-list",
        "product-detail",
        "user-list",
        "user-detail",
    }
)
STICKY_COOKIE = "veza_primary_until"
WRITE_POSITION_KEY = "veza:replicas:write-lsn"
# Keep the highest position only: two requests finishing out of order must not move it back.
_RAISE_POSITION = """
local current = redis.call('GET', KEYS[1])
if (not current) or tonumber(current) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
return 1
"""
# A replica behind the last write is asked again after this long (not at every read).
REPROBE_BEHIND_SECONDS = 0.02
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# How long a probe's answer is trusted: a replica that went down is skipped within a second.
PROBE_INTERVAL_SECONDS = 1.0

_use_replica: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "veza_use_replica", default=False
)
# The primary's WAL position a replica must have replayed to serve this request's reads, and
# the database the request's first read chose: every read of one request then sees one
# snapshot (a count and its page from the same database).
_required_position: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "veza_required_position", default=None
)
_chosen: contextvars.ContextVar[dict | None] = contextvars.ContextVar("veza_chosen", default=None)


def replica_aliases() -> list[str]:
    return [alias for alias in connections if alias.startswith(REPLICA_ALIAS_PREFIX)]


@contextmanager
def catalogue_read(*, replayed_at_least: int | None = None):
    """Reads inside this block may go to a replica that has replayed the primary's WAL up to
    ``replayed_at_least`` (the middleware's block, or a test's)."""
    token = _use_replica.set(True)
    position = _required_position.set(replayed_at_least)
    chosen = _chosen.set({})
    try:
        yield
    finally:
        _chosen.reset(chosen)
        _required_position.reset(position)
        _use_replica.reset(token)


@dataclass(frozen=True)
class ReplicaState:
    alias: str
    status: str  # "ok", "lagging" or "down"
    lag_seconds: float | None = None
    error: str | None = None
    replayed: int | None = None  # WAL position replayed (bytes); None where unknown

    def has_replayed(self, position: int | None) -> bool:
        return position is None or self.replayed is None or self.replayed >= position

    @property
    def usable(self) -> bool:
        return self.status == "ok"

    def as_dict(self) -> dict:
        state: dict = {"status": self.status}
        if self.lag_seconds is not None:
            state["lag_seconds"] = round(self.lag_seconds, 3)
        if self.error:
            state["error"] = self.error
        return state


# Replay lag in seconds: 0 when everything received is replayed (an idle primary writes
# nothing, so "now - last replay" would grow forever on a replica that is perfectly current).
_LAG_SQL = (
    "SELECT pg_is_in_recovery(), CASE "
    "WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END, "
    "pg_last_wal_replay_lsn() - '0/0'"
)


def probe(alias: str) -> ReplicaState:
    """One replica's state, asked of the replica itself."""
    connection = connections[alias]
    try:
        if connection.vendor != "postgresql":  # a test's SQLite mirror: no replication to read
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            return ReplicaState(alias, "ok", 0.0)
        with connection.cursor() as cursor:
            cursor.execute(_LAG_SQL)
            in_recovery, lag, replayed = cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "do not read from it"
        # A broken connection must not be reused by the next probe or request.
        connection.close_if_unusable_or_obsolete()
        return ReplicaState(alias, "down", error=f"{type(exc).__name__}: {exc}"[:200])
    lag = float(lag or 0)
    if not in_recovery:
        # A promoted replica takes writes of its own: reading it would show another history.
        return ReplicaState(alias, "down", error="not in recovery (promoted?)")
    replayed = int(replayed) if replayed is not None else None
    if lag > settings.REPLICA_MAX_LAG_SECONDS:
        return ReplicaState(alias, "lagging", lag, replayed=replayed)
    return ReplicaState(alias, "ok", lag, replayed=replayed)


class _Probes:
    """Per-process memo of the last probes: a replica's health is the same for every client,
    so sharing it within a process is safe (unlike read-your-writes, which is per client)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, ReplicaState] = {}
        self._checked_at = 0.0
        self._turn = itertools.count()

    def states(self, *, fresh: bool = False) -> list[ReplicaState]:
        aliases = replica_aliases()
        if not aliases:
            return []
        now = time.monotonic()
        with self._lock:
            stale = fresh or now - self._checked_at >= PROBE_INTERVAL_SECONDS
            if stale or set(self._states) != set(aliases):
                self._states = {alias: probe(alias) for alias in aliases}
                self._checked_at = time.monotonic()
            return [self._states[alias] for alias in aliases]

    def pick(self, position: int | None = None) -> str | None:
        """A usable replica that has replayed ``position``, round robin; None: the primary."""
        states = self.states()
        if position is not None and any(s.usable and not s.has_replayed(position) for s in states):
            with self._lock:
                if time.monotonic() - self._checked_at >= REPROBE_BEHIND_SECONDS:
                    self._states = {s.alias: probe(s.alias) for s in states}
                    self._checked_at = time.monotonic()
                states = [self._states[s.alias] for s in states]
        usable = [s.alias for s in states if s.usable and s.has_replayed(position)]
        if not usable:
            return None
        return usable[next(self._turn) % len(usable)]

    def forget(self) -> None:
        with self._lock:
            self._states, self._checked_at = {}, 0.0


probes = _Probes()


def replica_states(*, fresh: bool = False) -> dict[str, dict]:
    return {state.alias: state.as_dict() for state in probes.states(fresh=fresh)}


class ReplicaRouter:
    """Catalogue reads to a usable replica; everything else to the primary (``default``)."""

    def db_for_read(self, model, **hints):
        if not _use_replica.get():
            return None
        chosen = _chosen.get()
        if chosen is None:
            return probes.pick(_required_position.get())
        if "alias" not in chosen:
            # None when every replica is down, lagging or behind the last write: the primary.
            chosen["alias"] = probes.pick(_required_position.get())
        return chosen["alias"]

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        # The replicas hold the primary's rows: an object read from one relates to any other.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"


# --- read-your-writes --------------------------------------------------------------------


def _sticky_key(user_id) -> str:
    return f"replica-sticky:{user_id}"


def _bearer_subject(request) -> str | None:
    """The user id a bearer token names, *unverified*: it only chooses where a read goes (the
    primary is always correct); authentication still verifies the token as before."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header.startswith("Bearer "):
        return None
    try:
        claims = jwt.decode(header[7:], options={"verify_signature": False})
    except Exception:  # noqa: BLE001 - a malformed token reads the primary, then fails auth
        return None
    subject = claims.get("sub")
    return str(subject) if subject else None


def wrote_recently(request) -> bool:
    now = time.time()
    until = request.get_signed_cookie(STICKY_COOKIE, default=None, salt=STICKY_COOKIE)
    if until is not None:
        try:
            if float(until) > now:
                return True
        except ValueError:
            pass
    subject = _bearer_subject(request)
    return bool(subject and cache.get(_sticky_key(subject)))


def remember_write(request, response) -> None:
    seconds = settings.REPLICA_STICKY_SECONDS
    if seconds <= 0:
        return
    response.set_signed_cookie(
        STICKY_COOKIE,
        str(time.time() + seconds),
        salt=STICKY_COOKIE,
        max_age=seconds,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    subject = _bearer_subject(request)
    user = getattr(request, "user", None)
    if subject is None and user is not None and user.is_authenticated:
        subject = str(user.pk)
    if subject:
        cache.set(_sticky_key(subject), 1, timeout=seconds)


def _position_store():
    """The raw Redis client of the cache (positions need an atomic max), or None."""
    if not settings.REDIS_URL:
        return None
    from django_redis import get_redis_connection

    return get_redis_connection("default")


def record_write_position() -> None:
    """After a write request: the primary's WAL position, raised (never lowered) in Redis."""
    primary = connections["default"]
    store = _position_store()
    if store is None or primary.vendor != "postgresql":
        return
    try:
        with primary.cursor() as cursor:
            # The insert position: with asynchronous commit the write position can still be
            # behind the commit record when the request answers.
            cursor.execute("SELECT pg_current_wal_insert_lsn() - '0/0'")
            position = int(cursor.fetchone()[0])
        # Kept a day: a replica more than a day behind is long skipped for its lag anyway.
        store.eval(_RAISE_POSITION, 1, WRITE_POSITION_KEY, position, 24 * 3600)
    except Exception:  # noqa: BLE001 - the write succeeded; readers then use the lag bound
        logger.warning("could not record the write position for the replicas", exc_info=True)


def last_write_position() -> int | None:
    """The highest WAL position a write request left; when Redis fails, one no replica has
    reached (the primary serves)."""
    store = _position_store()
    if store is None:
        return None
    try:
        value = store.get(WRITE_POSITION_KEY)
    except Exception:  # noqa: BLE001 - unknown: assume the replicas are behind
        return 2**63
    return int(value) if value is not None else None


def is_catalogue_read(request) -> bool:
    if request.method not in ("GET", "HEAD"):
        return False
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    return match.url_name in CATALOGUE_ROUTES


class CatalogueReadMiddleware:
    """Marks public catalogue reads for the router; remembers a client's writes."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.enabled = bool(replica_aliases())

    def __call__(self, request):
        if not self.enabled:
            return self.get_response(request)
        if is_catalogue_read(request) and not wrote_recently(request):
            with catalogue_read(replayed_at_least=last_write_position()):
                return self.get_response(request)
        response = self.get_response(request)
        if request.method not in _SAFE_METHODS and response.status_code < 500:
            record_write_position()
            remember_write(request, response)
        return response
