from django.contrib import admin

from playlists.models import Playlist, PlaylistCollaborator, PlaylistTrack


class PlaylistTrackInline(admin.TabularInline):
    model = PlaylistTrack
    extra = 0
    fields = ("position", "track", "added_by", "added_at")
    readonly_fields = ("added_at",)
    raw_id_fields = ("track", "added_by")
    ordering = ("position",)


class PlaylistCollaboratorInline(admin.TabularInline):
    model = PlaylistCollaborator
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Playlist)
class PlaylistAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "is_public", "created_at", "updated_at")
    list_filter = ("is_public",)
    search_fields = ("title", "description", "owner__username", "owner__email")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    readonly_fields = ("id", "created_at", "updated_at")
    date_hierarchy = "created_at"
    inlines = [PlaylistCollaboratorInline, PlaylistTrackInline]


@admin.register(PlaylistTrack)
class PlaylistTrackAdmin(admin.ModelAdmin):
    list_display = ("playlist", "position", "track", "added_by", "added_at")
    search_fields = ("playlist__title", "track__title")
    list_select_related = ("playlist", "track", "added_by")
    raw_id_fields = ("playlist", "track", "added_by")


@admin.register(PlaylistCollaborator)
class PlaylistCollaboratorAdmin(admin.ModelAdmin):
    list_display = ("playlist", "user", "permission", "added_at")
    list_filter = ("permission",)
    search_fields = ("playlist__title", "user__username")
    list_select_related = ("playlist", "user")
    raw_id_fields = ("playlist", "user")
