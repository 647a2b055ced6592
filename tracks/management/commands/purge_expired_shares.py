from django.core.management.base import BaseCommand

from tracks import services


class Command(BaseCommand):
    help = "Delete track share links that expired or were revoked."

    def handle(self, *args, **options):
        count = services.purge_expired_shares()
        self.stdout.write(self.style.SUCCESS(f"{count} share link(s) purged."))
