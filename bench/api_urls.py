"""bench/api.py's urlconf: the real site plus views that never reach production URLs.

bare       the cheapest Django response, the figure every ratio divides by
api-floor  the least an API read costs: DRF with the project's authentication, throttle and JSON renderer
"""

from django.http import JsonResponse
from django.urls import include, path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


def bare(request):
    return JsonResponse({"ok": True, "service": "stretchhub"})


class Floor(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [
    path("bench/bare/", bare),
    path("bench/api-floor/", Floor.as_view()),
    path("", include("stretchhub.urls")),
]
