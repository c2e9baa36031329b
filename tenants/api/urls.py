"""REST API v1 routes of this app (included by config/api_v1.py)."""

from django.urls import include, path

urlpatterns = [
    path("", include("tenants.tokens.api.urls")),  # API tokens
]
