"""The installable web app: its manifest, its service worker (/sw.js) and the page shown offline.

The service worker's code is static/js/sw.js; served from the site root it may
control every page (its scope is /). What it is given here: the release it
belongs to (its caches are named after it, so a deploy makes new ones and the
old ones are deleted) and the static files every page needs. docs/push.md.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import cache_control

from .release import release

THEME_COLOUR = "#0b6e62"
BACKGROUND_COLOUR = "#f6f8f7"
# What any page needs: kept when the service worker installs. A page kept for
# offline use brings its own pictures, scripts and styles along (sw.js).
SHELL = (
    "css/site.css",
    "css/player.css",
    "js/player.js",
    "js/fragments.js",
    "js/pwa.js",
    "css/pwa.css",
    "favicon.svg",
    "icons/icon-192.png",
)
SERVICE_WORKER = "js/sw.js"


def _source(name: str) -> bytes:
    path = finders.find(name)
    with open(path, "rb") as file:
        return file.read()


def _version() -> str:
    digest = hashlib.blake2s(release().encode(), digest_size=6)
    for name in (SERVICE_WORKER, *SHELL):
        digest.update(_source(name))
    return digest.hexdigest()


# Built once per process in production, where files change only with a deploy;
# in development on every request, so an edited script reaches the browser.
_cached_version = cache(_version)


def version() -> str:
    return _version() if settings.DEBUG else _cached_version()


def service_worker(request: HttpRequest) -> HttpResponse:
    config = {
        "version": version(),
        "shell": [static(name) for name in SHELL],
        "offlinePage": reverse("offline"),
        "offlinePages": reverse("offline_pages"),
        "staticPrefix": static(""),
        "icon": static("icons/icon-192.png"),
        "startUrl": reverse("programs:dashboard"),
    }
    body = b"self.STRETCHHUB = " + json.dumps(config).encode() + b";\n" + _source(SERVICE_WORKER)
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    # The browser checks for a new worker on every navigation; no-cache makes
    # that check reach us, so a deploy takes effect at the next page.
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


@cache_control(max_age=3600, public=True)
def manifest(request: HttpRequest) -> JsonResponse:
    icons = [
        {"src": static("icons/icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any"},
        {"src": static("icons/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
        {"src": static("icons/icon-maskable-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "maskable"},
        {"src": static("icons/icon-maskable-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
    ]
    data = {
        "id": reverse("programs:dashboard"),
        "name": "StretchHub",
        "short_name": "StretchHub",
        "description": "Guided stretching and mobility programs, a little every day.",
        "lang": "en-GB",
        "start_url": reverse("programs:dashboard"),
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "categories": ["health", "fitness"],
        "icons": icons,
    }
    return JsonResponse(data, content_type="application/manifest+json")


@cache_control(max_age=3600, public=True)
def offline(request: HttpRequest) -> HttpResponse:
    """Shown for a page that was not kept on this device. Nothing personal on it: every member's browser keeps it."""
    return render(request, "pwa/offline.html", {"theme_colour": THEME_COLOUR})
