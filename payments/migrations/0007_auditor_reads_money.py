"""The Auditor reads everything financial, read-only, so that every link of an audit entry
opens: refunds, orders, disputes, payouts, the ledger, balances and webhook events."""

from django.db import migrations

AUDITOR_READS = {
    "accounts": ["view_user"],
    "marketplace": ["view_order", "view_orderitem", "view_license", "view_product"],
    "payments": [
        "view_refund",
        "view_refunditem",
        "view_dispute",
        "view_disputeshare",
        "view_disputenote",
        "view_payout",
        "view_payoutmethod",
        "view_ledgerentry",
        "view_sellerbalance",
        "view_sellertransfer",
        "view_webhookevent",
    ],
}


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    auditor, _ = Group.objects.get_or_create(name="Auditor")
    for app_label, codenames in AUDITOR_READS.items():
        auditor.permissions.add(
            *Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0006_four_eyes_approval"),
        ("accounts", "0002_staff_groups"),
        ("marketplace", "0004_product_file_path"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
