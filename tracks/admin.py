from django.contrib import admin

from tracks.models import PlayBatch, Track, TrackChange, TrackLike, TrackShare


class TrackChangeInline(admin.TabularInline):
    model = TrackChange
    extra = 0
    can_delete = False
    fields = ("created_at", "changed_by", "changes")
    readonly_fields = fields
    ordering = ("-created_at",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Track)
class TrackAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "creator",
        "status",
        "scan_status",
        "format",
        "is_public",
        "is_downloadable",
        "play_count",
        "download_count",
        "created_at",
    )
    list_filter = ("status", "scan_status", "format", "is_public", "is_downloadable", "genre")
    search_fields = ("title", "artist", "album", "creator__username", "creator__email")
    list_select_related = ("creator",)
    raw_id_fields = ("creator",)
    readonly_fields = (
        "id",
        "file",
        "file_size",
        "format",
        "scan_status",
        "status_changed_at",
        "play_count",
        "download_count",
        "created_at",
        "updated_at",
    )
    date_hierarchy = "created_at"
    inlines = [TrackChangeInline]


@admin.register(TrackLike)
class TrackLikeAdmin(admin.ModelAdmin):
    list_display = ("track", "user", "created_at")
    search_fields = ("track__title", "user__username")
    list_select_related = ("track", "user")
    raw_id_fields = ("track", "user")


@admin.register(TrackShare)
class TrackShareAdmin(admin.ModelAdmin):
    list_display = ("track", "created_by", "expires_at", "revoked_at", "created_at")
    list_filter = ("revoked_at",)
    search_fields = ("track__title", "created_by__username", "token")
    list_select_related = ("track", "created_by")
    raw_id_fields = ("track", "created_by")
    readonly_fields = ("token",)


@admin.register(TrackChange)
class TrackChangeAdmin(admin.ModelAdmin):
    list_display = ("track", "changed_by", "created_at")
    search_fields = ("track__title", "changed_by__username")
    list_select_related = ("track", "changed_by")
    readonly_fields = ("track", "changed_by", "changes", "created_at")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PlayBatch)
class PlayBatchAdmin(admin.ModelAdmin):
    """The stream server's play reports, read-only: counted plays cannot be edited away."""

    list_display = ("batch_id", "accepted", "skipped", "received_at")
    search_fields = ("batch_id",)
    readonly_fields = ("batch_id", "accepted", "skipped", "received_at")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
