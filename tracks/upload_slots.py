"""A counting semaphore bounding concurrent uploads across every worker process.

The counter lives in the shared cache (Redis in production) and is changed with atomic
``add``/``incr``/``decr``; its TTL bounds how long a slot leaked by a killed worker can
linger. When the cache itself fails, each process falls back to its own semaphore, which
still bounds the load per process.
"""

import contextlib
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache

from tracks.errors import UploadCapacityReached
from veza.uploads import uploads_failed

logger = logging.getLogger(__name__)

CACHE_KEY = "tracks:upload-slots"
SLOT_TTL_SECONDS = 15 * 60
RETRY_AFTER_SECONDS = 5

_local_lock = threading.Lock()
_local_semaphores: dict[int, threading.BoundedSemaphore] = {}


def _local_semaphore(limit: int) -> threading.BoundedSemaphore:
    with _local_lock:
        if limit not in _local_semaphores:
            _local_semaphores[limit] = threading.BoundedSemaphore(limit)
        return _local_semaphores[limit]


def _cache_acquire(limit: int) -> bool:
    for _ in range(3):
        cache.add(CACHE_KEY, 0, timeout=SLOT_TTL_SECONDS)
        try:
            taken = cache.incr(CACHE_KEY)
        except ValueError:  # the key expired between add and incr: start over
            continue
        if taken is None:  # a cache that swallows its errors (IGNORE_EXCEPTIONS)
            raise ConnectionError("cache did not answer incr")
        if taken > limit:
            cache.decr(CACHE_KEY)
            return False
        return True
    raise ConnectionError("could not create the upload-slot counter")


def _cache_release() -> None:
    with contextlib.suppress(ValueError):  # expired meanwhile: nothing to give back
        cache.decr(CACHE_KEY)


def _refuse(kind: str) -> UploadCapacityReached:
    uploads_failed.labels(kind=kind, reason=UploadCapacityReached.default_code).inc()
    return UploadCapacityReached(wait=RETRY_AFTER_SECONDS)


@contextmanager
def upload_slot(kind: str = "track") -> Iterator[None]:
    """Hold one of ``MAX_CONCURRENT_UPLOADS`` slots, or raise ``UploadCapacityReached``
    (counted in ``veza_uploads_failed_total`` under ``kind``)."""
    limit = max(1, settings.MAX_CONCURRENT_UPLOADS)
    try:
        acquired = _cache_acquire(limit)
    except Exception:  # noqa: BLE001 - any cache failure: degrade to a per-process bound
        logger.warning("upload-slot cache unavailable; using a process-local semaphore")
        semaphore = _local_semaphore(limit)
        if not semaphore.acquire(blocking=False):
            raise _refuse(kind) from None
        try:
            yield
        finally:
            semaphore.release()
        return
    if not acquired:
        raise _refuse(kind)
    try:
        yield
    finally:
        try:
            _cache_release()
        except Exception:  # noqa: BLE001
            logger.warning("could not release an upload slot; it expires with its TTL")
