from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import JavaScriptCatalog

from accounts import views as accounts_views
from programs import offline_views
from programs import views as programs_views

from . import pwa, views

admin.site.site_header = _("StretchHub admin")
admin.site.site_title = _("StretchHub admin")
admin.site.index_title = _("Stretches, programs and members")

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon),
    # The installable web app (docs/push.md): at the root, so the service worker's scope is the whole site.
    path("sw.js", pwa.service_worker, name="service_worker"),
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("offline/", pwa.offline, name="offline"),
    path("offline/pages/", offline_views.offline_pages, name="offline_pages"),
    path("admin/", admin.site.urls),
    # The footer's language switcher (Django's set_language, which also saves a member's choice).
    path("i18n/setlang/", accounts_views.set_language, name="set_language"),
    # The player's strings as a script file of our own origin: the CSP allows no inline script.
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("r/", include("programs.reminders.urls")),
    path("accounts/", include("accounts.urls")),
    path("api/v1/", include("programs.api.urls")),
    path("calendar/", include("programs.ical.urls")),
    path("", programs_views.home, name="home"),
    path("", include("programs.urls")),
]
if settings.MEDIA_SERVED_BY_DJANGO:
    urlpatterns.append(re_path(r"^media/(?P<path>.+)$", views.media, name="media"))
