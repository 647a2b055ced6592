from django.core.management.base import BaseCommand

from tracks import services


class Command(BaseCommand):
    help = (
        "Fail tracks stuck in processing longer than TRACK_PROCESSING_TIMEOUT; delete their files."
    )

    def handle(self, *args, **options):
        count = services.fail_stuck_processing_tracks()
        self.stdout.write(self.style.SUCCESS(f"{count} stuck track(s) marked failed."))
