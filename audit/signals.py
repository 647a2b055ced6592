"""Every change made through the Django admin lands in the audit log too."""

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db.models.signals import post_save
from django.dispatch import receiver

from audit.services import record

_ACTIONS = {ADDITION: "admin.add", CHANGE: "admin.change", DELETION: "admin.delete"}


@receiver(post_save, sender=LogEntry, dispatch_uid="audit-admin-log-entry")
def record_admin_change(sender, instance: LogEntry, created: bool, **kwargs) -> None:
    if not created:
        return
    record(
        action=_ACTIONS.get(instance.action_flag, "admin.action"),
        actor=instance.user,
        target_type=instance.content_type.model_class()._meta.label_lower
        if instance.content_type and instance.content_type.model_class()
        else "",
        target_id=instance.object_id or "",
        details={"object": instance.object_repr, "changes": instance.get_change_message()},
    )
