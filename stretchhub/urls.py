from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from programs import views as programs_views

from . import views

admin.site.site_header = "StretchHub admin"
admin.site.site_title = "StretchHub admin"
admin.site.index_title = "Stretches, programs and members"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon),
    path("admin/", admin.site.urls),
    path("r/", include("programs.reminders.urls")),
    path("accounts/", include("accounts.urls")),
    path("api/v1/", include("programs.api.urls")),
    path("calendar/", include("programs.ical.urls")),
    path("", programs_views.home, name="home"),
    path("", include("programs.urls")),
]
if settings.MEDIA_SERVED_BY_DJANGO:
    urlpatterns.append(re_path(r"^media/(?P<path>.+)$", views.media, name="media"))
