"""Portal pages of audit and data rights: access log, data requests, analytics, audit evidence."""

from django.urls import path

from audit.portal.evidence import audit_evidence, audit_evidence_download
from audit.views import portal_access_log

urlpatterns = [
    path("access-log/", portal_access_log, name="portal-access-log"),
    path("audits/", audit_evidence, name="portal-audits"),
    path("audits/<int:pk>/download/", audit_evidence_download, name="portal-audit-download"),
]
