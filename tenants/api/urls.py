"""REST API v1 routes of this app (included by config/api_v1.py)."""

from django.urls import include, path

from tenants.api.team import TeamListApi, TeamMemberApi

urlpatterns = [
    path("team/", TeamListApi.as_view(), name="api-team"),
    path("team/<int:pk>/", TeamMemberApi.as_view(), name="api-team-member"),
    path("", include("tenants.tokens.api.urls")),  # API tokens
]
