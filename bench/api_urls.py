"""bench/api.py's urlconf: the real site plus a bare view that never reaches production URLs."""

from django.http import JsonResponse
from django.urls import include, path


def bare(request):
    return JsonResponse({"ok": True, "service": "stretchhub"})


urlpatterns = [
    path("bench/bare/", bare),
    path("", include("stretchhub.urls")),
]
