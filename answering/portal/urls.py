"""Portal pages of the answering desk: today, messages, calls, voicemail."""

from django.urls import path

from answering.portal import views

urlpatterns = [
    path("", views.portal_home, name="portal-home"),
    path("today/panel/", views.portal_home_panel, name="portal-home-panel"),
    path("messages/", views.message_index, name="portal-messages"),
    path("messages/<int:pk>/", views.message_detail, name="portal-message"),
    path("messages/<int:pk>/acknowledge/", views.message_acknowledge_view, name="portal-message-acknowledge"),
    path("calls/", views.call_index, name="portal-calls"),
    path("calls/<int:pk>/", views.call_detail, name="portal-call"),
    path("scripts/", views.script_index, name="portal-scripts"),
    path("voicemail/", views.voicemail_index, name="portal-voicemail"),
    path("voicemail/<int:pk>/audio/", views.voicemail_play, name="portal-voicemail-audio"),
]
