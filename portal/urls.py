"""The portal's URLs. Each screen's routes live with the app that owns its data."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from portal import signin
from portal.views import help_page, help_screenshot, set_language

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(template_name="portal/login.html"), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/second-factor/", signin.second_factor, name="second-factor"),
    path("accounts/second-factor/setup/", signin.second_factor_setup, name="second-factor-setup"),
    path("accounts/password-reset/", signin.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password-reset/done/", signin.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/password-reset/complete/", signin.PasswordResetCompleteView.as_view(), name="password_reset_complete"
    ),
    path(
        "accounts/password-reset/<uidb64>/<token>/",
        signin.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("security/", signin.security, name="portal-security"),
    path("i18n/setlang/", set_language, name="set-language"),
    path("help/", help_page, name="portal-help"),
    path("help/screenshots/<str:name>", help_screenshot, name="portal-help-screenshot"),
    path("", include("answering.portal.urls")),  # today, messages, calls, voicemail
    path("", include("scheduling.portal.urls")),  # appointments
    path("", include("crm.portal.urls")),  # contacts
    path("", include("compliance.agreements.portal.urls")),  # agreement, sub-processors
    path("", include("audit.portal.urls")),  # access log, data requests, analytics
    path("", include("billing.portal.urls")),  # usage & billing, statements
    path("", include("levels.portal.urls")),  # service level
    path("", include("portal.team_urls")),  # team, API tokens
]
