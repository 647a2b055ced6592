from django.contrib import admin
from django.utils import timezone

from privacy.models import DataExport, PendingErasure


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PendingErasure)
class PendingErasureAdmin(ReadOnlyAdmin):
    """Accounts whose erasure is scheduled, soonest first; the job erases them when due."""

    list_display = ("username", "email", "deletion_scheduled_for", "is_due")
    search_fields = ("username", "email")
    ordering = ("deletion_scheduled_for",)
    fields = ("id", "username", "email", "role", "deletion_scheduled_for", "created_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).filter(deletion_scheduled_for__isnull=False)

    @admin.display(boolean=True, description="due")
    def is_due(self, obj) -> bool:
        return obj.deletion_scheduled_for <= timezone.now()


@admin.register(DataExport)
class DataExportAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "status", "progress", "size", "created_at", "expires_at")
    list_filter = ("status",)
    search_fields = ("user__username", "user__email")
    list_select_related = ("user",)
    fields = (
        "id",
        "user",
        "status",
        "progress",
        "size",
        "failure_reason",
        "created_at",
        "ready_at",
        "expires_at",
    )
    readonly_fields = fields
