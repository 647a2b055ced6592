"""Thin Celery wrappers around the export and erasure services."""

import logging

from celery import shared_task

from privacy import erasure, exports

logger = logging.getLogger(__name__)

MAX_BUILD_RETRIES = 3


@shared_task(bind=True, max_retries=MAX_BUILD_RETRIES, time_limit=2 * 3600, soft_time_limit=None)
def build_export(self, *, export_id: str) -> None:
    """A large library takes longer than the default task limit, hence its own."""
    try:
        exports.build_export(export_id=export_id)
    except Exception as exc:
        if self.request.retries >= MAX_BUILD_RETRIES:
            logger.exception("export %s failed for good", export_id)
            exports.mark_failed(export_id=export_id, reason=f"{type(exc).__name__}: {exc}")
            raise
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc


@shared_task
def expire_exports() -> int:
    return exports.expire_exports()


@shared_task
def erase_due_accounts() -> int:
    return erasure.erase_due_accounts()
