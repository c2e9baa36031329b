"""The portal's URLs. Each screen's routes live with the app that owns its data."""

from django.contrib.auth import views as auth_views
from django.urls import include, path, reverse_lazy

from portal.views import set_language

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(template_name="portal/login.html"), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Where the Team page's invitations lead: Django's reset-confirm view, choosing a first password.
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="tenants/portal/password_set.html",
            success_url=reverse_lazy("login"),
        ),
        name="password_reset_confirm",
    ),
    path("i18n/setlang/", set_language, name="set-language"),
    path("", include("answering.portal.urls")),  # today, messages, calls, voicemail
    path("", include("scheduling.portal.urls")),  # appointments
    path("", include("crm.portal.urls")),  # contacts
    path("", include("tenants.agreements.portal.urls")),  # agreement, sub-processors
    path("", include("audit.portal.urls")),  # access log, data requests, analytics
    path("", include("tenants.portal.urls")),  # team, API tokens
]
