from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from payments import urls as payments_urls
from veza import health

admin.site.site_header = "Veza back-office"
admin.site.site_title = "Veza back-office"
admin.site.index_title = "Run the platform"

# Each app's urls.py spells its paths from /api/v1/ on (contract paths, no trailing slash).
api_v1 = [
    # No other pattern matches this path, so trying it first changes nothing but the time.
    path("", include(payments_urls.webhook_urlpatterns)),
    path("", include("accounts.urls")),
    path("", include("tracks.urls")),
    path("", include("playlists.urls")),
    path("", include("marketplace.urls")),
    path("", include("invoicing.urls")),
    path("", include("payments.urls")),
    path("", include("audit.urls")),
    path("", include("developer.urls")),
    path("", include("privacy.urls")),
    path("", include("moderation.urls")),
]

urlpatterns = [
    path("health", health.health, name="health"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("status", health.status_view, name="status"),
    path("", include("django_prometheus.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/v1/", include(api_v1)),
    path("admin/", admin.site.urls),
]
