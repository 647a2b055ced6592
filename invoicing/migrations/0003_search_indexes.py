"""The invoice search (``veza.admin_search``): a number by its first characters in any case
(``vz-2025-0000`` finds VZ-2025-000042)."""

from django.db import migrations

from veza.admin_search import search_indexes


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY
    dependencies = [("invoicing", "0002_finance_views_invoices")]

    operations = [
        search_indexes(
            ("invoice_number_upper_idx", "invoicing_invoice", "UPPER(number) text_pattern_ops"),
        )
    ]
