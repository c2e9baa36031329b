"""REST API v1 routes of this app (included by api/urls.py)."""

from django.urls import path

from compliance.agreements.api.views import (
    AgreementApi,
    SubProcessorListApi,
    SubProcessorObjectionApi,
    VersionDetailApi,
    VersionListApi,
    VersionRejectApi,
    VersionSignApi,
)

urlpatterns = [
    path("agreement/", AgreementApi.as_view(), name="api-agreement"),
    path("agreement/versions/", VersionListApi.as_view(), name="api-agreement-versions"),
    path("agreement/versions/<int:pk>/", VersionDetailApi.as_view(), name="api-agreement-version"),
    path("agreement/versions/<int:pk>/sign/", VersionSignApi.as_view(), name="api-agreement-version-sign"),
    path("agreement/versions/<int:pk>/reject/", VersionRejectApi.as_view(), name="api-agreement-version-reject"),
    path("sub-processors/", SubProcessorListApi.as_view(), name="api-sub-processors"),
    path("sub-processors/<int:pk>/objections/", SubProcessorObjectionApi.as_view(), name="api-sub-processor-object"),
]
