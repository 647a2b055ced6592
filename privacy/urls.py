from django.urls import path

from privacy.api import views

urlpatterns = [
    path("users/me", views.AccountErasureView.as_view(), name="user-me-erasure"),
    path("users/me/export", views.ExportRequestView.as_view(), name="user-me-export"),
    path(
        "users/me/exports/<uuid:pk>", views.ExportDetailView.as_view(), name="user-me-export-detail"
    ),
    path(
        "users/me/cancel-deletion",
        views.CancelErasureView.as_view(),
        name="user-me-cancel-deletion",
    ),
    path("exports/<uuid:pk>/download", views.ExportDownloadView.as_view(), name="export-download"),
]
