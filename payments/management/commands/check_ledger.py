from django.core.management.base import BaseCommand, CommandError

from payments.ledger import ledger_differences
from payments.models import SellerBalance
from payments.payouts.checks import payout_differences


class Command(BaseCommand):
    help = "Verify that every seller balance equals the sum of its applied ledger entries."

    def handle(self, *args, **options):
        problems = ledger_differences()
        for p in problems:
            self.stderr.write(
                f"seller {p['seller_id']} {p['currency']}: balance {p['balance']} "
                f"!= entries {p['entries']}"
            )
        for p in payout_differences():
            problems.append(p)
            self.stderr.write(f"payout or transfer out of step with its entries: {p}")
        if problems:
            raise CommandError(f"{len(problems)} balance(s) or payout(s) disagree with the ledger.")
        self.stdout.write(
            self.style.SUCCESS(f"Ledger consistent: {SellerBalance.objects.count()} balance(s).")
        )
