import csv
import json

from django.contrib import admin
from django.contrib.auth.models import Group
from django.http import StreamingHttpResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html

from audit.admin_export import STREAM_BLOCK
from audit.models import AuditLog
from audit.services import record
from veza.admin_search import IndexedSearchMixin
from veza.admin_tools import IndexedValuesFilter, ReadOnlyAdmin
from veza.money import format_money

CSV_COLUMNS = [
    "created_at",
    "action",
    "actor",
    "actor_role",
    "actor_groups",
    "target_type",
    "target_id",
    "ip_address",
    "user_agent",
    "details",
]


class _Echo:
    def write(self, value):
        return value


class StaffGroupFilter(admin.SimpleListFilter):
    """Entries by the staff group their actor was in when it acted."""

    title = "staff group"
    parameter_name = "staff_group"

    def lookups(self, request, model_admin):
        return [
            (name, name) for name in Group.objects.order_by("name").values_list("name", flat=True)
        ]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(actor_groups__contains=self.value())
        return queryset


def with_money(details):
    """Details keep minor units; beside each amount, the amount as staff read it."""
    if isinstance(details, list):
        return [with_money(value) for value in details]
    if not isinstance(details, dict):
        return details
    currency = details.get("currency")
    shown = {}
    for key, value in details.items():
        is_amount = key == "amount" or key.endswith("_amount")
        if is_amount and currency and isinstance(value, int) and not isinstance(value, bool):
            shown[key] = f"{value} ({format_money(value, currency)})"
        else:
            shown[key] = with_money(value)
    return shown


def target_url(entry: AuditLog) -> str | None:
    """The admin page of the entry's object, when the admin has one."""
    if "." not in entry.target_type or not entry.target_id:
        return None
    app_label, model = entry.target_type.split(".", 1)
    try:
        return reverse(f"admin:{app_label}_{model}_change", args=[entry.target_id])
    except NoReverseMatch:
        return None


@admin.register(AuditLog)
class AuditLogAdmin(IndexedSearchMixin, ReadOnlyAdmin):
    """Read-only for everyone, superusers included: the audit log is append-only."""

    list_display = (
        "created_at",
        "action",
        "actor",
        "actor_role",
        "actor_groups",
        "target",
        "ip_address",
    )
    # Filters and dates that never read the whole table (a million rows and more).
    list_filter = (
        ("action", IndexedValuesFilter),
        StaffGroupFilter,
        ("actor_role", IndexedValuesFilter),
        ("target_type", IndexedValuesFilter),
        ("created_at", admin.DateFieldListFilter),
    )
    search_fields = (
        "action__startswith",
        "target_id__startswith",
        "actor__email__istartswith",
        "actor__username__istartswith",
        "ip_address__exact",
    )
    search_help_text = (
        "Action (refund.), target id, actor email or username — each by its first "
        "characters — or an exact IP address"
    )
    id_prefix_fields = ()
    list_select_related = ("actor",)
    fields = [
        "created_at",
        "action",
        "actor",
        "actor_role",
        "actor_groups",
        "target",
        "ip_address",
        "user_agent",
        "details_display",
    ]
    readonly_fields = fields
    change_list_template = "admin/audit/auditlog/change_list.html"

    @admin.display(description="target")
    def target(self, entry: AuditLog) -> str:
        label = f"{entry.target_type}:{entry.target_id}" if entry.target_type else entry.target_id
        url = target_url(entry)
        return format_html('<a href="{}">{}</a>', url, label) if url else label

    @admin.display(description="details")
    def details_display(self, entry: AuditLog) -> str:
        text = json.dumps(with_money(entry.details), indent=2, ensure_ascii=False, default=str)
        return format_html('<pre style="white-space:pre-wrap;margin:0">{}</pre>', text)

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
        record(
            action="admin.export",
            request=request,
            target_type="audit.auditlog",
            details={
                "export": "audit logs",
                "filters": request.GET.dict(),
                "rows": queryset.count(),
            },
        )
        writer = csv.writer(_Echo())

        fields = (
            "created_at",
            "action",
            "actor__username",
            "actor_role",
            "actor_groups",
            "target_type",
            "target_id",
            "ip_address",
            "user_agent",
            "details",
        )

        def rows():
            yield writer.writerow(CSV_COLUMNS)
            lines = []
            # Plain values, written in blocks: an audit log of millions streams in seconds.
            for values in queryset.values_list(*fields).iterator(chunk_size=2000):
                created_at, *middle, details = values
                cells = [created_at.isoformat(), *("" if v is None else v for v in middle)]
                cells.append(json.dumps(details, ensure_ascii=False, default=str))
                lines.append(writer.writerow(cells))
                if len(lines) == STREAM_BLOCK:
                    yield "".join(lines)
                    lines = []
            yield "".join(lines)

        response = StreamingHttpResponse(rows(), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
        return response
