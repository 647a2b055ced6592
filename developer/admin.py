from django.contrib import admin
from rest_framework_api_key.models import APIKey as LibraryAPIKey

from developer.models import APIKey

# The library's own (unused) key model would show an empty "API keys" page next to ours.
if admin.site.is_registered(LibraryAPIKey):
    admin.site.unregister(LibraryAPIKey)


@admin.register(APIKey)
class APIKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "owner", "scopes", "created", "last_used_at", "revoked"]
    list_filter = ["revoked"]
    search_fields = ["name", "prefix", "owner__email"]
    readonly_fields = [f.name for f in APIKey._meta.fields]

    def has_add_permission(self, request):
        return False  # a key is made by its owner, who alone sees it once
