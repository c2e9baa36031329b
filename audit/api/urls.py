from django.urls import path

from audit.api.views import AccessLogApi, DsrDetailApi, DsrExportApi, DsrListApi, LineDayStatsApi

urlpatterns = [
    path("access-log/", AccessLogApi.as_view(), name="api-access-log"),
    path("data-subject-requests/", DsrListApi.as_view(), name="api-dsr-list"),
    path("data-subject-requests/<int:pk>/", DsrDetailApi.as_view(), name="api-dsr-detail"),
    path("data-subject-requests/<int:pk>/export/", DsrExportApi.as_view(), name="api-dsr-export"),
    path("analytics/line-days/", LineDayStatsApi.as_view(), name="api-analytics-line-days"),
]
