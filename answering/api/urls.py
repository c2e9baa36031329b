from django.urls import path

from answering.api.messages import MessageAcknowledgeApi, MessageDetailApi, MessageListApi
from answering.api.views import LineListApi
from answering.api.webhooks import WebhookDetailApi, WebhookListApi, WebhookRotateSecretApi

urlpatterns = [
    path("lines/", LineListApi.as_view(), name="api-line-list"),
    path("messages/", MessageListApi.as_view(), name="api-message-list"),
    path("messages/<int:pk>/", MessageDetailApi.as_view(), name="api-message-detail"),
    path("messages/<int:pk>/acknowledge/", MessageAcknowledgeApi.as_view(), name="api-message-acknowledge"),
    path("webhooks/", WebhookListApi.as_view(), name="api-webhook-list"),
    path("webhooks/<int:pk>/", WebhookDetailApi.as_view(), name="api-webhook-detail"),
    path("webhooks/<int:pk>/rotate-secret/", WebhookRotateSecretApi.as_view(), name="api-webhook-rotate-secret"),
]
