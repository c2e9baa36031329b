"""URLs of the provider's own host (the public schema): the Django admin and /metrics."""

from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from audit.dpo_views import EvidenceDownloadView, EvidenceListView
from operations.monitoring.metrics import metrics_view
from portal.guides import staff_guide_view, staff_screenshot_view

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    # The DPO's pages over the client companies' audit evidence, behind the admin's sign-in.
    path(
        "admin/dpo/evidence/",
        admin.site.admin_view(EvidenceListView.as_view(admin.site)),
        name="dpo-evidence",
    ),
    path(
        "admin/dpo/evidence/<slug:slug>/<int:pk>/download/",
        admin.site.admin_view(EvidenceDownloadView.as_view(admin.site)),
        name="dpo-evidence-download",
    ),
    path("admin/help/screenshots/<str:name>", admin.site.admin_view(staff_screenshot_view), name="help-screenshot"),
    path("admin/help/<slug:name>/", admin.site.admin_view(staff_guide_view), name="staff-guide"),
    path("admin/", admin.site.urls),
    path("metrics", metrics_view, name="metrics"),  # /health/ is answered by HealthMiddleware
]
