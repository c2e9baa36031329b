from django.urls import path

from answering.api.calls import CallDetailApi, CallListApi
from answering.api.messages import MessageAcknowledgeApi, MessageDetailApi, MessageListApi
from answering.api.views import LineListApi
from answering.api.voicemail import VoicemailAudioApi, VoicemailDetailApi, VoicemailListApi
from answering.api.webhooks import WebhookDetailApi, WebhookListApi, WebhookRotateSecretApi

urlpatterns = [
    path("lines/", LineListApi.as_view(), name="api-line-list"),
    path("messages/", MessageListApi.as_view(), name="api-message-list"),
    path("messages/<int:pk>/", MessageDetailApi.as_view(), name="api-message-detail"),
    path("messages/<int:pk>/acknowledge/", MessageAcknowledgeApi.as_view(), name="api-message-acknowledge"),
    path("calls/", CallListApi.as_view(), name="api-call-list"),
    path("calls/<int:pk>/", CallDetailApi.as_view(), name="api-call-detail"),
    path("voicemail/", VoicemailListApi.as_view(), name="api-voicemail-list"),
    path("voicemail/<int:pk>/", VoicemailDetailApi.as_view(), name="api-voicemail-detail"),
    path("voicemail/<int:pk>/audio/", VoicemailAudioApi.as_view(), name="api-voicemail-audio"),
    path("webhooks/", WebhookListApi.as_view(), name="api-webhook-list"),
    path("webhooks/<int:pk>/", WebhookDetailApi.as_view(), name="api-webhook-detail"),
    path("webhooks/<int:pk>/rotate-secret/", WebhookRotateSecretApi.as_view(), name="api-webhook-rotate-secret"),
]
