from celery import shared_task

from tracks import services


@shared_task
def fail_stuck_processing_tracks() -> int:
    return services.fail_stuck_processing_tracks()


@shared_task
def purge_expired_shares() -> int:
    return services.purge_expired_shares()
