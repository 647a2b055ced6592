"""One JSON view, nothing else: the ceiling the API endpoints are compared with."""

from django.http import JsonResponse
from django.urls import path


def ceiling(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [path("bench/ceiling", ceiling)]
