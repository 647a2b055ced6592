"""Names that say what they are, behaviour unchanged:

- ``Refund.hyperswitch_refund_id`` is ``provider_refund_id`` in the code, beside
  ``Payout.provider_payout_id``; the column keeps the contract's name (state only).
- ``SellerTransfer.provider_transfer_id`` was never written: it goes.
- ``DisputeNote`` follows the internal-note rules (``InternalNote``): no change or delete
  permission; its rows stay as they are.
"""

from django.db import migrations, models

STALE = ("change_disputenote", "delete_disputenote")


def drop_stale_permissions(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(content_type__app_label="payments", codename__in=STALE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0010_sync_chunks_once_and_rejected_failed_at"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RenameField(
                    model_name="refund",
                    old_name="hyperswitch_refund_id",
                    new_name="provider_refund_id",
                ),
                migrations.AlterField(
                    model_name="refund",
                    name="provider_refund_id",
                    field=models.CharField(
                        blank=True,
                        db_column="hyperswitch_refund_id",
                        max_length=128,
                        null=True,
                        unique=True,
                    ),
                ),
            ],
            database_operations=[],
        ),
        migrations.RemoveField(model_name="sellertransfer", name="provider_transfer_id"),
        migrations.AlterModelOptions(
            name="disputenote",
            options={"default_permissions": ("add", "view"), "ordering": ["created_at"]},
        ),
        migrations.RunPython(drop_stale_permissions, migrations.RunPython.noop),
    ]
