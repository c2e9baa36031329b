"""Portal pages of audit and data rights: access log, data requests, analytics."""

from django.urls import path

from audit.views import portal_access_log

urlpatterns = [
    path("access-log/", portal_access_log, name="portal-access-log"),
]
