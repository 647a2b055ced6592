from django.urls import path
from rest_framework.routers import SimpleRouter

from moderation.api import views

router = SimpleRouter(trailing_slash=False, use_regex_path=False)
router.register("moderation/decisions", views.DecisionViewSet, basename="moderation-decision")
router.register(
    "admin/moderation/reports", views.ModerationReportViewSet, basename="moderation-report"
)
router.register(
    "admin/moderation/appeals", views.ModerationAppealViewSet, basename="moderation-appeal"
)

urlpatterns = [
    path("reports", views.ReportCreateView.as_view(), name="report-create"),
    path("admin/moderation/stats", views.TransparencyView.as_view(), name="moderation-stats"),
    *router.urls,
]
