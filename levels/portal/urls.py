"""Portal pages of the service levels: the screen with its charts, and its CSV."""

from django.urls import path

from levels.portal import views

urlpatterns = [
    path("service-level/", views.service_level, name="portal-levels"),
    path("service-level/export.csv", views.service_level_csv, name="portal-levels-csv"),
]
