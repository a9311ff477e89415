from django.urls import path

from . import views

app_name = "programs"

urlpatterns = [
    path("programs/", views.catalogue, name="catalogue"),
    path("programs/<slug:slug>/", views.detail, name="detail"),
    path("programs/<slug:slug>/preview/", views.preview, name="preview"),
]
