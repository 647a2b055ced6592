"""Staff groups for the Django admin: Support, Finance and Auditor."""

from django.db import migrations

GROUPS = {
    "Support": [
        "accounts.view_user",
        "marketplace.view_order",
        "marketplace.view_orderitem",
        "marketplace.view_license",
        "marketplace.view_product",
        "payments.view_refund",
        "payments.open_refund",
    ],
    "Finance": [
        "accounts.view_user",
        "marketplace.view_order",
        "marketplace.view_orderitem",
        "marketplace.view_license",
        "marketplace.view_product",
        "payments.view_refund",
        "payments.open_refund",
        "payments.sync_refund",
        "payments.override_refund_window",
        "payments.view_ledgerentry",
        "payments.view_sellerbalance",
        "payments.view_sellertransfer",
        "payments.view_webhookevent",
    ],
    "Auditor": ["audit.view_auditlog"],
}


def create_groups(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for label in codenames:
            app_label, codename = label.split(".")
            permission = Permission.objects.get(
                content_type__app_label=app_label, codename=codename
            )
            group.permissions.add(permission)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(GROUPS)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("audit", "0001_initial"),
        ("marketplace", "0001_initial"),
        ("payments", "0002_refund_permissions"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
