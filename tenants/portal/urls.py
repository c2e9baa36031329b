"""Portal pages of this app (see portal/navigation.py for the screen list)."""

from django.urls import include, path

urlpatterns = [
    path("", include("tenants.tokens.portal.urls")),  # API tokens
]
