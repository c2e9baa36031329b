"""The client company's view of its access log: who at the provider looked at what."""

from django.db import transaction
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from audit.dsr import dsr_open, dsr_process
from audit.models import AccessLogEntry, DataSubjectRequest
from tenants.errors import ApplicationError
from tenants.files import encrypted_file_read
from tenants.gates.api import TenantAPIView
from tenants.gates.signals import report_read


class AccessLogOutputSerializer(serializers.ModelSerializer):
    who = serializers.CharField(source="user.username", default="(automatic task)")
    role = serializers.CharField(source="user.get_provider_role_display", default="")

    class Meta:
        model = AccessLogEntry
        fields = ["at", "who", "role", "channel", "object_type", "object_ids", "fields", "refused"]


class AccessLogApi(TenantAPIView):
    """Reads of this company's personal data by the provider's staff and tasks. Client admins only."""

    api_scope = "access_log"
    serializer_class = AccessLogOutputSerializer

    @extend_schema(operation_id="access_log_list", responses=AccessLogOutputSerializer(many=True))
    def get(self, request):
        self.require_client_admin(request)
        page = self.paginate_queryset(self.safely_get_queryset())
        return self.get_paginated_response(AccessLogOutputSerializer(page, many=True).data)

    def safely_get_queryset(self):
        # The client's own people reading their own data are not "the provider"; leave them out.
        return AccessLogEntry.objects.select_related("user").exclude(user__provider_role="").order_by("-at", "-pk")


class DsrInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["access", "rectification", "erasure"])
    phone_number = serializers.CharField(required=False, allow_blank=True, default="")
    email = serializers.CharField(required=False, allow_blank=True, default="")
    corrections = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False, default=dict)


class DsrOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = DataSubjectRequest
        fields = ["id", "kind", "status", "raised_at", "due_at", "completed_at", "result"]


class DsrListApi(TenantAPIView):
    """The company's data-subject requests: raise one (client admins), or see them and their due dates."""

    api_scope = "data_requests"
    serializer_class = DsrOutputSerializer

    @extend_schema(operation_id="dsr_list", responses=DsrOutputSerializer(many=True))
    def get(self, request):
        self.require_client_admin(request)
        page = self.paginate_queryset(self.safely_get_queryset())
        return self.get_paginated_response(DsrOutputSerializer(page, many=True).data)

    @extend_schema(operation_id="dsr_create", request=DsrInputSerializer, responses={201: DsrOutputSerializer})
    def post(self, request):
        self.require_client_admin(request)
        data = DsrInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        corrections = data.validated_data.pop("corrections")
        if data.validated_data["kind"] == "rectification" and not corrections:
            raise ApplicationError("a rectification needs its corrections", field="corrections")
        with transaction.atomic():
            dsr = dsr_open(actor=request.user, **data.validated_data)
            dsr = dsr_process(request=dsr, actor=request.user, corrections=corrections)
        return Response(DsrOutputSerializer(dsr).data, status=201)

    def safely_get_queryset(self):
        return DataSubjectRequest.objects.all()


class DsrExportApi(TenantAPIView):
    """The ZIP of an access request, decrypted on the way out. Client admins only."""

    api_scope = "data_requests"
    serializer_class = DsrOutputSerializer

    @extend_schema(operation_id="dsr_export", responses={(200, "application/zip"): bytes})
    def get(self, request, pk: int):
        self.require_client_admin(request)
        dsr = self.get_object()
        if not dsr.export_file:
            raise NotFound("this request has no export")
        from crm.models import Contact
        from tenants.categories import personal_fields

        report_read(user=request.user, channel="export", model=Contact, object_ids=dsr.result.get("contact_ids", []),
                    fields=personal_fields(Contact), path=request.path)  # fmt: skip
        response = HttpResponse(encrypted_file_read(dsr.export_file), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="access-request-{dsr.pk}.zip"'
        response["Cache-Control"] = "private, no-store"
        return response

    def safely_get_queryset(self):
        return DataSubjectRequest.objects.all()
