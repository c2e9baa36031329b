"""URLs of a client company's host (`<slug>.localhost`): its portal and REST API."""

from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from answering import telephony_views
from answering.views import portal_home
from audit.api.views import AccessLogApi, DsrExportApi, DsrListApi
from audit.views import portal_access_log
from scheduling.views import calendar_feed

urlpatterns = [
    path("", portal_home, name="portal-home"),
    path("accounts/login/", auth_views.LoginView.as_view(template_name="tenants/login.html"), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("access-log/", portal_access_log, name="portal-access-log"),
    path("calendar/<str:token>.ics", calendar_feed, name="calendar-feed"),
    path("telephony/voice/", telephony_views.voice, name="telephony-voice"),
    path("telephony/consent/", telephony_views.consent, name="telephony-consent"),
    path("telephony/status/", telephony_views.status, name="telephony-status"),
    path("telephony/recording/", telephony_views.recording, name="telephony-recording"),
    path("telephony/transcription/", telephony_views.transcription, name="telephony-transcription"),
    path("telephony/sms-status/", telephony_views.sms_status, name="telephony-sms-status"),
    path("api/", include("answering.api.urls")),
    path("api/access-log/", AccessLogApi.as_view(), name="api-access-log"),
    path("api/data-subject-requests/", DsrListApi.as_view(), name="api-dsr-list"),
    path("api/data-subject-requests/<int:pk>/export/", DsrExportApi.as_view(), name="api-dsr-export"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
]
