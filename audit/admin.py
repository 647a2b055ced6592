import csv

from django.contrib import admin
from django.http import StreamingHttpResponse
from django.urls import path

from audit.models import AuditLog
from veza.pagination import EstimatedCountPaginator

CSV_COLUMNS = [
    "created_at",
    "action",
    "actor",
    "actor_role",
    "target_type",
    "target_id",
    "ip_address",
    "user_agent",
    "details",
]


class _Echo:
    def write(self, value):
        return value


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    """Read-only for everyone, superusers included: the audit log is append-only."""

    list_display = ("created_at", "action", "actor", "actor_role", "target", "ip_address")
    list_filter = ("action", "actor_role", "target_type")
    date_hierarchy = "created_at"
    search_fields = ("action", "target_id", "actor__username", "actor__email", "ip_address")
    list_select_related = ("actor",)
    readonly_fields = [f.name for f in AuditLog._meta.fields]
    change_list_template = "admin/audit/auditlog/change_list.html"
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    @admin.display(description="target")
    def target(self, entry: AuditLog) -> str:
        return f"{entry.target_type}:{entry.target_id}" if entry.target_type else entry.target_id

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        export = path(
            "export.csv",
            self.admin_site.admin_view(self.export_csv),
            name="audit_auditlog_export",
        )
        return [export, *super().get_urls()]

    def export_csv(self, request):
        """The changelist's current filters and search, as CSV (streamed)."""
        if not self.has_view_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        queryset = changelist.get_queryset(request).select_related("actor").order_by("-created_at")
        writer = csv.writer(_Echo())

        def rows():
            yield writer.writerow(CSV_COLUMNS)
            for entry in queryset.iterator(chunk_size=2000):
                yield writer.writerow(
                    [
                        entry.created_at.isoformat(),
                        entry.action,
                        entry.actor.username if entry.actor else "",
                        entry.actor_role,
                        entry.target_type,
                        entry.target_id,
                        entry.ip_address or "",
                        entry.user_agent,
                        entry.details,
                    ]
                )

        response = StreamingHttpResponse(rows(), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
        return response
