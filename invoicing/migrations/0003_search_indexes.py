"""The invoice list at a million rows: the search finds a number by its first characters in
any case (``vz-2025-0000`` finds VZ-2025-000042, ``veza.admin_search``); the year and tax
country filters list their values by skipping through an index (``IndexedValuesFilter``)
instead of ``SELECT DISTINCT`` over the table."""

from django.db import migrations

from veza.admin_search import search_indexes


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY
    dependencies = [("invoicing", "0002_finance_views_invoices")]

    operations = [
        search_indexes(
            ("invoice_number_upper_idx", "invoicing_invoice", "UPPER(number) text_pattern_ops"),
            ("invoice_year_idx", "invoicing_invoice", "year"),
            ("invoice_tax_country_idx", "invoicing_invoice", "tax_country"),
        )
    ]
