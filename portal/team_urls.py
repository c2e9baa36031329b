"""Portal pages of this app (see portal/navigation.py for the screen list)."""

from django.urls import include, path

from portal import team

urlpatterns = [
    path("team/", team.team, name="portal-team"),
    path("team/<int:pk>/role/", team.team_member_role, name="portal-team-role"),
    path("team/<int:pk>/remove/", team.team_member_remove, name="portal-team-remove"),
    path("", include("api.tokens.portal.urls")),  # API tokens
]
