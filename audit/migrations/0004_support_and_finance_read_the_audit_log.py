"""Support and Finance read the audit log console (view only: it is append-only for all),
so that a refund's staff actions are visible to the people who act on refunds."""

from django.db import migrations

READERS = ["Support", "Finance"]


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view = Permission.objects.get(content_type__app_label="audit", codename="view_auditlog")
    for name in READERS:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(view)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view = Permission.objects.filter(content_type__app_label="audit", codename="view_auditlog")
    for group in Group.objects.filter(name__in=READERS):
        group.permissions.remove(*view)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_merge_0002_actor_groups_0002_admin_list_indexes"),
        ("accounts", "0002_staff_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
