from django.core.management.base import BaseCommand

from tracks import services


class Command(BaseCommand):
    help = "Repair Track.like_count from the like rows where they differ (after bulk deletions)."

    def handle(self, *args, **options):
        count = services.recount_like_counts()
        self.stdout.write(self.style.SUCCESS(f"{count} track(s) recounted."))
