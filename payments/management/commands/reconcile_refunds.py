from django.core.management.base import BaseCommand

from payments.refunds.reconcile import reconcile_refunds
from payments.refunds.selectors import stuck_refunds


class Command(BaseCommand):
    help = "Ask the payment provider about refunds pending for longer than REFUND_RECONCILE_AFTER."

    def handle(self, *args, **options):
        count = stuck_refunds().count()
        summary = reconcile_refunds()
        self.stdout.write(f"{count} pending refund(s) examined: {summary or 'nothing to do'}")
