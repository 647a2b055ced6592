from django.urls import path

from audit.api import views

urlpatterns = [
    path("admin/audit/logs", views.AuditLogListView.as_view(), name="audit-logs"),
    path("admin/audit/stats", views.AuditStatsView.as_view(), name="audit-stats"),
    path("admin/audit/suspicious", views.AuditSuspiciousView.as_view(), name="audit-suspicious"),
]
