"""URLs of a client company's host (`<slug>.localhost`): its portal and REST API."""

from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from answering.views import portal_home
from scheduling.views import calendar_feed

urlpatterns = [
    path("", portal_home, name="portal-home"),
    path("accounts/login/", auth_views.LoginView.as_view(template_name="tenants/login.html"), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("calendar/<str:token>.ics", calendar_feed, name="calendar-feed"),
    path("api/", include("answering.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
]
