from django.urls import path

from tracks.api import views

urlpatterns = [
    path("tracks", views.TrackListCreateView.as_view(), name="track-list"),
    path("tracks/shared/<str:token>", views.SharedTrackView.as_view(), name="track-shared"),
    path("tracks/share/<uuid:share_id>", views.ShareRevokeView.as_view(), name="track-share"),
    path("tracks/<uuid:pk>", views.TrackDetailView.as_view(), name="track-detail"),
    path("tracks/<uuid:pk>/like", views.TrackLikeView.as_view(), name="track-like"),
    path("tracks/<uuid:pk>/likes", views.TrackLikesView.as_view(), name="track-likes"),
    path("tracks/<uuid:pk>/share", views.TrackShareCreateView.as_view(), name="track-share-create"),
    path("tracks/<uuid:pk>/stats", views.TrackStatsView.as_view(), name="track-stats"),
    path("tracks/<uuid:pk>/history", views.TrackHistoryView.as_view(), name="track-history"),
    path("tracks/<uuid:pk>/download", views.TrackDownloadView.as_view(), name="track-download"),
    path(
        "internal/tracks/<uuid:pk>/stream-ready",
        views.StreamReadyView.as_view(),
        name="track-stream-ready",
    ),
]
