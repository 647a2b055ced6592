from django.urls import path

from playlists.api import views

urlpatterns = [
    path("playlists", views.PlaylistListCreateView.as_view(), name="playlist-list"),
    path("playlists/<uuid:pk>", views.PlaylistDetailView.as_view(), name="playlist-detail"),
    path("playlists/<uuid:pk>/tracks", views.PlaylistTracksView.as_view(), name="playlist-tracks"),
    path(
        "playlists/<uuid:pk>/tracks/<uuid:track_id>",
        views.PlaylistTrackView.as_view(),
        name="playlist-track",
    ),
    path(
        "playlists/<uuid:pk>/collaborators",
        views.PlaylistCollaboratorsView.as_view(),
        name="playlist-collaborators",
    ),
    path(
        "playlists/<uuid:pk>/collaborators/<uuid:user_id>",
        views.PlaylistCollaboratorView.as_view(),
        name="playlist-collaborator",
    ),
]
