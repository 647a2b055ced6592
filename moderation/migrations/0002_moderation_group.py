"""The staff group Moderation: works the report queue and the appeals in the admin."""

from django.db import migrations

PERMISSIONS = [
    "moderation.view_report",
    "moderation.change_report",
    "moderation.view_decision",
    "moderation.add_decision",
    "moderation.view_appeal",
    "moderation.change_appeal",
    "moderation.view_blockedaudio",
    "moderation.view_suspension",
    "accounts.view_user",
    "tracks.view_track",
    "playlists.view_playlist",
    "marketplace.view_product",
]


def create_group(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Moderation")
    for label in PERMISSIONS:
        app_label, codename = label.split(".")
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Moderation").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0001_initial"),
        ("accounts", "0006_user_profile_taken_down_at_and_more"),
        ("tracks", "0006_alter_track_status"),
        ("playlists", "0002_playlist_taken_down_at"),
        ("marketplace", "0008_product_taken_down_at"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
