from django.urls import path

from audit.api.views import AccessLogApi, DsrExportApi, DsrListApi

urlpatterns = [
    path("access-log/", AccessLogApi.as_view(), name="api-access-log"),
    path("data-subject-requests/", DsrListApi.as_view(), name="api-dsr-list"),
    path("data-subject-requests/<int:pk>/export/", DsrExportApi.as_view(), name="api-dsr-export"),
]
