from django.urls import path

from . import views

app_name = "calendar"

urlpatterns = [
    path("<str:token>.ics", views.feed, name="feed"),
    path("rotate/", views.rotate, name="rotate"),
]
