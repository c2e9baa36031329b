from django.urls import path

from desk.consumers import AgentConsoleConsumer

websocket_urlpatterns = [path("ws/desk/", AgentConsoleConsumer.as_asgi())]
