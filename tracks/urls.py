from django.urls import path
from rest_framework.routers import SimpleRouter

from tracks.api import views

# Path converters rather than regexes: routes read (and are logged) as `tracks/<uuid:pk>`,
# and a share token never appears in a route.
router = SimpleRouter(trailing_slash=False, use_regex_path=False)
router.register("tracks/shared", views.SharedTrackViewSet, basename="track-shared")
router.register("tracks/share", views.TrackShareViewSet, basename="track-share")
router.register("tracks", views.TrackViewSet, basename="track")

urlpatterns = [
    *router.urls,
    path(
        "internal/tracks/<uuid:pk>/stream-ready",
        views.StreamReadyView.as_view(),
        name="track-stream-ready",
    ),
    path("internal/plays", views.PlayBatchView.as_view(), name="play-batch"),
]
