"""URLs of a client company's host (`<slug>.localhost`): its portal and REST API."""

from django.urls import include, path

from answering import telephony_views
from scheduling.views import calendar_feed

urlpatterns = [
    path("calendar/<str:token>.ics", calendar_feed, name="calendar-feed"),
    path("telephony/voice/", telephony_views.voice, name="telephony-voice"),
    path("telephony/consent/", telephony_views.consent, name="telephony-consent"),
    path("telephony/queue/wait/", telephony_views.queue_wait, name="telephony-queue-wait"),
    path("telephony/queue/result/", telephony_views.queue_result, name="telephony-queue-result"),
    path("telephony/status/", telephony_views.status, name="telephony-status"),
    path("telephony/recording/", telephony_views.recording, name="telephony-recording"),
    path("telephony/transcription/", telephony_views.transcription, name="telephony-transcription"),
    path("telephony/transfer/status/", telephony_views.transfer_status, name="telephony-transfer-status"),
    path("telephony/sms-status/", telephony_views.sms_status, name="telephony-sms-status"),
    path("api/v1/", include("api.urls")),
    path("", include("portal.urls")),
]

handler404 = "tenants.views.not_found"  # JSON under /api/, even for a path that matches no route
