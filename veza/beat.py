"""One scheduler at a time: Celery beat guarded by a lock with expiry in Redis.

Two beat processes (a second one started by mistake, or a new deploy's beat starting while the
old one is still stopping) would each send every periodic job: the payout run twice. With
``CELERY_BEAT_SCHEDULER = "veza.beat:LeaderScheduler"`` each beat tries, at every tick, to take
or renew the lock ``BEAT_LOCK_KEY`` (``SET NX PX``, renewed only by its holder, atomically):
the holder sends the jobs; any other beat only keeps its schedule moving (it marks the jobs due
as run without sending them), so that when the holder dies and its lock expires
(``BEAT_LOCK_SECONDS``) the next one carries on at the same pace instead of sending every job
at once. A beat that stops cleanly releases the lock at once.

Without a lock URL (``BEAT_LOCK_URL``, else ``REDIS_URL``, else ``CELERY_BROKER_URL``) there is
one node and nothing to guard: the scheduler behaves as Celery's own.
"""

import logging
import os
import socket
import uuid

import redis
from celery.beat import PersistentScheduler
from django.conf import settings

logger = logging.getLogger(__name__)

# Take the lock when it is free, renew it when it is ours; never touch another beat's lock.
_HOLD = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def lock_client() -> redis.Redis | None:
    url = settings.BEAT_LOCK_URL
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


class BeatLock:
    """The leader lock itself, usable without a scheduler (the tests hold it from outside)."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        seconds: int,
        identity: str | None = None,
        key: str | None = None,
    ):
        self.client = client
        self.seconds = seconds
        self.key = key or settings.BEAT_LOCK_KEY
        self.identity = identity or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def hold(self) -> bool:
        """Take or renew the lock; False when another beat holds it or Redis is unreachable
        (then nobody can prove to be alone, so nobody sends)."""
        try:
            held = self.client.eval(_HOLD, 1, self.key, self.identity, self.seconds * 1000)
        except redis.RedisError as exc:
            logger.warning("beat lock unavailable (%s): not sending periodic jobs", exc)
            return False
        return bool(held)

    def release(self) -> None:
        try:
            self.client.eval(_RELEASE, 1, self.key, self.identity)
        except redis.RedisError:
            pass  # it expires by itself


class LeaderScheduler(PersistentScheduler):
    def __init__(self, *args, **kwargs):
        client = lock_client()
        self.lock = BeatLock(client, seconds=settings.BEAT_LOCK_SECONDS) if client else None
        self.leading = self.lock is None
        super().__init__(*args, **kwargs)

    def tick(self, *args, **kwargs):
        if self.lock is None:
            return super().tick(*args, **kwargs)
        leading = self.lock.hold()
        if leading != self.leading:
            self.leading = leading
            role = "took the lock, sending periodic jobs" if leading else "standing by"
            logger.warning("beat %s: %s", self.lock.identity, role)
        if leading:
            # Never sleep past the lock's expiry: renew it well before another beat could take it.
            return min(super().tick(*args, **kwargs), self.lock.seconds / 3)
        self._follow_schedule()
        return min(self.lock.seconds / 3, self.max_interval)

    def _follow_schedule(self) -> None:
        for name, entry in list(self.schedule.items()):
            is_due, _ = entry.is_due()
            if is_due:
                self.schedule[name] = entry._next_instance()

    def close(self):
        super().close()
        if self.lock is not None and self.leading:
            self.lock.release()
