"""The client company's REST API, version 1 (`/api/v1/` on the company's host).

Every view derives from `api.base.TenantAPIView`. Each app keeps its own routes in
`<app>/api/urls.py`; this module only puts them under one prefix, with the schema.
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("", include("answering.api.urls")),  # lines, messages, calls, voicemail, webhooks
    path("", include("scheduling.api.urls")),  # appointments
    path("", include("crm.api.urls")),  # contacts
    path("", include("compliance.agreements.api.urls")),  # agreement, sub-processors
    path("", include("audit.api.urls")),  # access log, data-subject requests, analytics
    path("", include("billing.api.urls")),  # usage, statements
    path("", include("levels.api.urls")),  # service levels
    path("", include("api.team_urls")),  # team, API tokens
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI from drf-spectacular-sidecar's vendored files. (No Redoc: its page loads web
    # fonts from a CDN, and nothing here may be fetched from elsewhere.)
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
