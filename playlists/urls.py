from rest_framework.routers import SimpleRouter

from playlists.api import views

# Path converters rather than regexes, as for tracks: routes read `playlists/<uuid:pk>`.
router = SimpleRouter(trailing_slash=False, use_regex_path=False)
router.register("playlists", views.PlaylistViewSet, basename="playlist")

urlpatterns = router.urls
