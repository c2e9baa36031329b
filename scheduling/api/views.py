"""The appointments API: list, read, book, cancel and reschedule through the booking services
(which refuse a taken slot or one outside the resource's hours with a 400 naming `starts_at`),
and the services, resources and free slots needed to book. Client admins write; members read."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from api.base import TenantAPIView
from scheduling.api.serializers import (
    AppointmentCancelSerializer,
    AppointmentCreateSerializer,
    AppointmentOutputSerializer,
    AppointmentQuerySerializer,
    AppointmentRescheduleSerializer,
    ResourceOutputSerializer,
    ServiceOutputSerializer,
    SlotOutputSerializer,
    SlotQuerySerializer,
)
from scheduling.models import Appointment
from scheduling.selectors import appointment_list, resource_list, service_list, slots_find
from scheduling.services import appointment_book, appointment_cancel, appointment_reschedule


def _shown(appointments) -> list[dict]:
    """The appointments as the API sends them. Each names its caller (`contact_name`), a field of
    the contact joined in: the layer logs it as the contact's."""
    return AppointmentOutputSerializer(appointments, many=True).data


class AppointmentListApi(TenantAPIView):
    api_scope = "appointments"
    serializer_class = AppointmentOutputSerializer

    @extend_schema(
        operation_id="appointments_list",
        parameters=[AppointmentQuerySerializer],
        responses=AppointmentOutputSerializer(many=True),
    )
    def get(self, request):
        query = AppointmentQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        appointments = appointment_list(
            start=params.get("starts_after"),
            end=params.get("starts_before"),
            resource=params.get("resource"),
            statuses=(params["status"],) if "status" in params else None,
        ).order_by(params["ordering"], "pk")
        page = self.paginate_queryset(appointments)
        return self.get_paginated_response(_shown(page))

    @extend_schema(
        operation_id="appointments_create",
        request=AppointmentCreateSerializer,
        responses={201: AppointmentOutputSerializer},
    )
    def post(self, request):
        self.require_client_admin(request)
        data = AppointmentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        appointment = appointment_book(**data.validated_data, actor=request.user)
        appointment = appointment_list().get(pk=appointment.pk)
        return Response(_shown([appointment])[0], status=status.HTTP_201_CREATED)

    def safely_get_queryset(self):
        return appointment_list()


class AppointmentDetailApi(TenantAPIView):
    api_scope = "appointments"
    serializer_class = AppointmentOutputSerializer

    @extend_schema(operation_id="appointments_retrieve", responses=AppointmentOutputSerializer)
    def get(self, request, pk: int):
        return Response(_shown([self.get_object()])[0])

    def safely_get_queryset(self):
        return appointment_list()


class AppointmentCancelApi(TenantAPIView):
    api_scope = "appointments"
    serializer_class = AppointmentOutputSerializer

    @extend_schema(
        operation_id="appointments_cancel", request=AppointmentCancelSerializer, responses=AppointmentOutputSerializer
    )
    def post(self, request, pk: int):
        self.require_client_admin(request)
        appointment = self.get_object()
        data = AppointmentCancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        appointment_cancel(appointment=appointment, actor=request.user, reason=data.validated_data["reason"])
        return Response(_shown([appointment_list().get(pk=pk)])[0])

    def safely_get_queryset(self):
        return appointment_list()


class AppointmentRescheduleApi(TenantAPIView):
    api_scope = "appointments"
    serializer_class = AppointmentOutputSerializer

    @extend_schema(
        operation_id="appointments_reschedule",
        request=AppointmentRescheduleSerializer,
        responses=AppointmentOutputSerializer,
    )
    def post(self, request, pk: int):
        self.require_client_admin(request)
        appointment = self.get_object()
        data = AppointmentRescheduleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        appointment_reschedule(appointment=appointment, starts_at=data.validated_data["starts_at"], actor=request.user)
        return Response(_shown([appointment_list().get(pk=pk)])[0])

    def safely_get_queryset(self):
        return appointment_list()


class ServiceListApi(TenantAPIView):
    """What can be booked (read-only; supervisors configure it in the admin)."""

    api_scope = "appointments"
    serializer_class = ServiceOutputSerializer

    @extend_schema(operation_id="services_list", responses=ServiceOutputSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.safely_get_queryset())
        return self.get_paginated_response(ServiceOutputSerializer(page, many=True).data)

    def safely_get_queryset(self):
        return service_list()


class ResourceListApi(TenantAPIView):
    """Who and which rooms can be booked, and for what (read-only)."""

    api_scope = "appointments"
    serializer_class = ResourceOutputSerializer

    @extend_schema(operation_id="resources_list", responses=ResourceOutputSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.safely_get_queryset())
        return self.get_paginated_response(ResourceOutputSerializer(page, many=True).data)

    def safely_get_queryset(self):
        return resource_list()


class SlotListApi(TenantAPIView):
    """Free slots of a service (on one resource or every one that offers it), at most 62 days."""

    api_scope = "appointments"
    serializer_class = SlotOutputSerializer
    pagination_class = None

    @extend_schema(
        operation_id="slots_list", parameters=[SlotQuerySerializer], responses=SlotOutputSerializer(many=True)
    )
    def get(self, request):
        query = SlotQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        slots = slots_find(**query.validated_data)
        return Response(SlotOutputSerializer(slots, many=True).data)

    def safely_get_queryset(self):
        return Appointment.objects.none()  # reads no row of anyone's; slots are computed
