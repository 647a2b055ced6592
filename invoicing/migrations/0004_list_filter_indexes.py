"""The invoice list at a million rows: the year and tax country filters list their values
by skipping through an index (``veza.admin_tools.IndexedValuesFilter``) instead of
``SELECT DISTINCT`` over the table."""

from django.db import migrations

from veza.admin_search import search_indexes


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY
    dependencies = [("invoicing", "0003_search_indexes")]

    operations = [
        search_indexes(
            ("invoice_year_idx", "invoicing_invoice", "year"),
            ("invoice_tax_country_idx", "invoicing_invoice", "tax_country"),
        )
    ]
