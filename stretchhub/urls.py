from django.contrib import admin
from django.urls import include, path

from programs import views as programs_views

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("r/", include("programs.reminders.urls")),
    path("accounts/", include("accounts.urls")),
    path("api/v1/", include("programs.api.urls")),
    path("calendar/", include("programs.ical.urls")),
    path("", programs_views.home, name="home"),
    path("", include("programs.urls")),
]
