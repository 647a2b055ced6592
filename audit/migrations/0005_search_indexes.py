"""The audit search (``veza.admin_search``) finds the entries made from one IP address."""

from django.db import migrations

from veza.admin_search import search_indexes


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY
    dependencies = [("audit", "0004_support_and_finance_read_the_audit_log")]

    operations = [search_indexes(("audit_ip_address_idx", "audit_auditlog", "ip_address"))]
