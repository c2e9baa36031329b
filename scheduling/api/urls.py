"""REST API v1 routes of this app (included by api/urls.py)."""

from django.urls import path

from scheduling.api.views import (
    AppointmentCancelApi,
    AppointmentDetailApi,
    AppointmentListApi,
    AppointmentRescheduleApi,
    ResourceListApi,
    ServiceListApi,
    SlotListApi,
)

urlpatterns = [
    path("appointments/", AppointmentListApi.as_view(), name="api-appointment-list"),
    path("appointments/<int:pk>/", AppointmentDetailApi.as_view(), name="api-appointment-detail"),
    path("appointments/<int:pk>/cancel/", AppointmentCancelApi.as_view(), name="api-appointment-cancel"),
    path("appointments/<int:pk>/reschedule/", AppointmentRescheduleApi.as_view(), name="api-appointment-reschedule"),
    path("services/", ServiceListApi.as_view(), name="api-service-list"),
    path("resources/", ResourceListApi.as_view(), name="api-resource-list"),
    path("slots/", SlotListApi.as_view(), name="api-slot-list"),
]
