"""Every change made through the Django admin lands in the audit log too, with each changed
field's old and new value, and the staff's sign-ins and sign-outs to ``/admin/``."""

import datetime
import decimal
import uuid

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from audit.context import current_admin_request, is_admin_request
from audit.models import AuditLog
from audit.services import record

_ACTIONS = {ADDITION: "admin.add", CHANGE: "admin.change", DELETION: "admin.delete"}
# Never copied into the audit log, only marked as changed.
_SECRET_MARKERS = ("password", "secret", "token", "key_hash")


def _plain(value):
    """A JSON-safe value: what the audit's ``details`` can hold."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime.datetime | datetime.date | decimal.Decimal | uuid.UUID):
        return str(value)
    return str(value)


def _values(instance) -> dict:
    return {
        f.attname: _plain(getattr(instance, f.attname, None))
        for f in instance._meta.concrete_fields
    }


def _is_secret(name: str) -> bool:
    return any(marker in name for marker in _SECRET_MARKERS)


@receiver(pre_save, dispatch_uid="audit-admin-before-save")
def remember_before_admin_save(sender, instance, raw=False, **kwargs) -> None:
    context = current_admin_request.get()
    if context is None or raw or sender in (AuditLog, LogEntry) or instance.pk is None:
        return
    if context.request.method != "POST":
        return
    old = sender._default_manager.filter(pk=instance.pk).first()
    if old is not None:
        context.before[(sender._meta.label_lower, str(instance.pk))] = _values(old)


@receiver(post_save, dispatch_uid="audit-admin-after-save")
def diff_after_admin_save(sender, instance, created=False, raw=False, **kwargs) -> None:
    context = current_admin_request.get()
    if context is None or raw or sender in (AuditLog, LogEntry):
        return
    key = (sender._meta.label_lower, str(instance.pk))
    before = context.before.pop(key, {})
    after = _values(instance)
    changes = {}
    for name, new in after.items():
        old = before.get(name)
        if created or old != new:
            if _is_secret(name):
                changes[name] = {"old": "***", "new": "***"}
            else:
                changes[name] = {"old": None if created else old, "new": new}
    if changes:
        context.changes.setdefault(key, {}).update(changes)


@receiver(post_save, sender=LogEntry, dispatch_uid="audit-admin-log-entry")
def record_admin_change(sender, instance: LogEntry, created: bool, **kwargs) -> None:
    if not created:
        return
    model = instance.content_type.model_class() if instance.content_type else None
    target_type = model._meta.label_lower if model else ""
    context = current_admin_request.get()
    details = {"object": instance.object_repr, "changes": instance.get_change_message()}
    if context is not None:
        fields = context.changes.pop((target_type, str(instance.object_id)), None)
        if fields:
            details["fields"] = fields
    record(
        action=_ACTIONS.get(instance.action_flag, "admin.action"),
        actor=instance.user,
        target_type=target_type,
        target_id=instance.object_id or "",
        request=context.request if context is not None else None,
        details=details,
    )


# --- sign-in and sign-out to the admin (the API audits its own logins) ---------------------
@receiver(user_logged_in, dispatch_uid="audit-admin-login")
def record_admin_login(sender, request, user, **kwargs) -> None:
    if is_admin_request(request):
        record(action="admin.login", actor=user, target=user, request=request)


@receiver(user_logged_out, dispatch_uid="audit-admin-logout")
def record_admin_logout(sender, request, user, **kwargs) -> None:
    if is_admin_request(request) and user is not None:
        record(action="admin.logout", actor=user, target=user, request=request)


@receiver(user_login_failed, dispatch_uid="audit-admin-login-failed")
def record_admin_login_failed(sender, credentials, request=None, **kwargs) -> None:
    if is_admin_request(request):
        record(
            action="admin.login_failed",
            request=request,
            details={"username": str(credentials.get("username", ""))[:150]},
        )
