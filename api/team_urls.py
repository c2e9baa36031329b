"""REST API v1 routes of this app (included by api/urls.py)."""

from django.urls import include, path

from api.team import TeamListApi, TeamMemberApi

urlpatterns = [
    path("team/", TeamListApi.as_view(), name="api-team"),
    path("team/<int:pk>/", TeamMemberApi.as_view(), name="api-team-member"),
    path("", include("api.tokens.api.urls")),  # API tokens
]
