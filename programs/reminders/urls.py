from django.urls import path

from . import views

app_name = "reminders"

urlpatterns = [
    path("done/<str:token>/", views.done, name="done"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("off/<str:token>/", views.preference_off, name="preference_off"),
]
