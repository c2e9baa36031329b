"""Portal pages of audit and data rights: access log, data requests, analytics, audit evidence."""

from django.urls import path

from audit.portal import views
from audit.portal.evidence import (
    audit_checkpoints_download,
    audit_evidence,
    audit_evidence_download,
    audit_public_key_download,
)

urlpatterns = [
    path("access-log/", views.access_log, name="portal-access-log"),
    path("access-log/export.csv", views.access_log_csv, name="portal-access-log-csv"),
    path("data-requests/", views.data_requests, name="portal-data-requests"),
    path("data-requests/<int:pk>/", views.data_request_detail, name="portal-data-request"),
    path("data-requests/<int:pk>/export/", views.data_request_export, name="portal-data-request-export"),
    path("data-requests/<int:pk>/carry-out/", views.data_request_carry_out, name="portal-data-request-carry-out"),
    path("analytics/", views.analytics, name="portal-analytics"),
    path("analytics/export.csv", views.analytics_csv, name="portal-analytics-csv"),
    path("audits/", audit_evidence, name="portal-audits"),
    path("audits/<int:pk>/download/", audit_evidence_download, name="portal-audit-download"),
    path("audits/checkpoints.jsonl", audit_checkpoints_download, name="portal-audit-checkpoints"),
    path("audits/public-key.pem", audit_public_key_download, name="portal-audit-public-key"),
]
