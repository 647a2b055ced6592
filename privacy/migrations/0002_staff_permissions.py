"""Staff groups see the pending erasures and the data exports (read-only in the admin)."""

from django.db import migrations

VIEW = ["view_pendingerasure", "view_dataexport"]
GRANTS = {"Support": VIEW, "Finance": VIEW, "Auditor": VIEW}


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
            *Permission.objects.filter(content_type__app_label="privacy", codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0001_initial"),
        ("accounts", "0002_staff_groups"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
