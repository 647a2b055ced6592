import logging

from celery import shared_task

from moderation import strikes

logger = logging.getLogger(__name__)


@shared_task
def lift_lapsed_suspensions() -> int:
    """Safe to run twice: each suspension is lifted by a conditional UPDATE, once."""
    lifted = strikes.lift_lapsed_suspensions()
    if lifted:
        logger.info("lifted %d suspension(s) whose strikes lapsed", lifted)
    return lifted
