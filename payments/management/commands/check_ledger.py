from django.core.management.base import BaseCommand, CommandError

from payments.checks import sale_credit_differences
from payments.ledger import ledger_differences
from payments.models import SellerBalance
from payments.payouts.checks import payout_differences


class Command(BaseCommand):
    help = (
        "Verify that every seller balance equals the sum of its applied ledger entries, that "
        "payouts agree with them, and that sale credits are the sellers' shares of net prices."
    )

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
        for p in sale_credit_differences():
            problems.append(p)
            self.stderr.write(
                f"order {p['order_id']} seller {p['seller_id']}: sale credits "
                f"{p['sale_credits']} != share of the net prices {p['net_share']} "
                "(sellers never earn on VAT)"
            )
        if problems:
            raise CommandError(
                f"{len(problems)} balance(s), payout(s) or sale credit(s) disagree with the ledger."
            )
        self.stdout.write(
            self.style.SUCCESS(f"Ledger consistent: {SellerBalance.objects.count()} balance(s).")
        )
