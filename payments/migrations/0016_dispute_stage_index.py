"""The dispute list's stage filter lists the stages by skipping through an index
(``veza.admin_tools.IndexedValuesFilter``) instead of ``SELECT DISTINCT`` over the table."""

from django.db import migrations

from veza.admin_search import search_indexes


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY
    dependencies = [("payments", "0015_finance_manages_disputes")]

    operations = [search_indexes(("dispute_stage_idx", "payments_dispute", "stage"))]
