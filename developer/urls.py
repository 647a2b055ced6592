from rest_framework.routers import SimpleRouter

from developer.api import views

router = SimpleRouter(trailing_slash=False, use_regex_path=False)
router.register("developer/api-keys", views.ApiKeyViewSet, basename="api-key")
router.register("developer/webhooks", views.WebhookEndpointViewSet, basename="webhook-endpoint")
urlpatterns = router.urls
