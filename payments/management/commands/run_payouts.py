from django.core.management.base import BaseCommand

from payments.payouts.reconcile import reconcile_payouts
from payments.payouts.release import release_due
from payments.payouts.services import run_payouts


class Command(BaseCommand):
    help = (
        "Release the money of orders past their refund window, then pay every eligible seller "
        "(what the PAYOUT_SCHEDULE beat runs); --reconcile also re-reads stuck payouts."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reconcile",
            action="store_true",
            help="Also re-read payouts pending for longer than PAYOUT_RECONCILE_AFTER.",
        )

    def handle(self, *args, **options):
        released = release_due()
        self.stdout.write(f"release: {released or 'nothing to release'}")
        summary = run_payouts()
        self.stdout.write(f"payouts: {summary or 'nobody to pay'}")
        if options["reconcile"]:
            self.stdout.write(f"reconciliation: {reconcile_payouts() or 'nothing'}")
