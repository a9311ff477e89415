"""bench/web.py's urlconf: the real site plus views that never reach production URLs.

bare          the cheapest Django response, the figure every ratio divides by
signed-in     the least a member's page costs: the session and user rows, nothing else
page-shell    the base template around an empty page, for the signed-in member
"""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import include, path


def bare(request):
    return JsonResponse({"ok": True, "service": "stretchhub"})


@login_required
def signed_in(request):
    return JsonResponse({"member": request.user.pk})


@login_required
def page_shell(request):
    return render(request, "base.html", {})


urlpatterns = [
    path("bench/bare/", bare),
    path("bench/signed-in/", signed_in),
    path("bench/page-shell/", page_shell),
    path("", include("stretchhub.urls")),
]
