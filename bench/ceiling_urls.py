"""One JSON view: the ceiling the API endpoints are compared with.

The admin's URLs are routed too, never requested: the staff second factor's middleware
(``accounts.second_factor.middleware``) reverses ``admin:index`` on every request when
``STAFF_REQUIRE_2FA`` is on, as in production. Without the admin's namespace every ceiling
request was a 500 (a ``NoReverseMatch`` and its logged traceback), not the bare view.
"""

from django.contrib import admin
from django.http import JsonResponse
from django.urls import path


def ceiling(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [path("bench/ceiling", ceiling), path("admin/", admin.site.urls)]
