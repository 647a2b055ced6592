"""Staff groups see the dispute console; Finance and Support add internal notes."""

from django.db import migrations

GRANTS = {
    "Support": ["view_dispute", "view_disputenote", "add_disputenote"],
    "Finance": ["view_dispute", "view_disputenote", "add_disputenote", "view_refunditem"],
    "Auditor": ["view_dispute", "view_disputenote"],
}


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="payments", codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0003_seller_money_and_disputes"),
        ("accounts", "0002_staff_groups"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
