"""Portal pages of the answering desk: today, messages, calls, voicemail."""

from django.urls import path

from answering.views import portal_home

urlpatterns = [
    path("", portal_home, name="portal-home"),
]
