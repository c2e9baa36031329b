"""The agreement API: the company's DPA (active version and versions awaiting its signature),
signing and rejecting versions, the sub-processors and objections to them. Client admins decide;
members read. Agreements live in the shared public schema, so each view narrows its rows to the
host's company: another company's ids are a 404 (and the base view logs the refusal)."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from api.base import TenantAPIView
from compliance.agreements.api.serializers import (
    AgreementOutputSerializer,
    ObjectionInputSerializer,
    ObjectionOutputSerializer,
    RejectInputSerializer,
    SubProcessorOutputSerializer,
    VersionOutputSerializer,
)
from compliance.agreements.selectors import (
    dpa_active_for_company,
    dpa_awaiting_client,
    dpa_versions_for_company,
    sub_processors_for_company,
)
from compliance.agreements.services import dpa_reject_for_client, dpa_sign_for_client, sub_processor_object


class _AgreementView(TenantAPIView):
    api_scope = "agreement"
    serializer_class = VersionOutputSerializer

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": timezone.localdate()}

    def safely_get_queryset(self):
        return dpa_versions_for_company(company=self.request.tenant)

    def _version(self, version) -> dict:
        return VersionOutputSerializer(version, context=self.get_serializer_context()).data


class AgreementApi(_AgreementView):
    """The company's DPA: the active version, and the versions awaiting the client's signature."""

    serializer_class = AgreementOutputSerializer

    @extend_schema(operation_id="agreement_retrieve", responses=AgreementOutputSerializer)
    def get(self, request):
        company = request.tenant
        body = {
            "active": dpa_active_for_company(company=company),
            "awaiting_signature": dpa_awaiting_client(company=company),
        }
        return Response(AgreementOutputSerializer(body, context=self.get_serializer_context()).data)


class VersionListApi(_AgreementView):
    """Every version of the company's agreement, newest first."""

    @extend_schema(operation_id="agreement_versions_list", responses=VersionOutputSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.safely_get_queryset())
        return self.get_paginated_response(
            VersionOutputSerializer(page, many=True, context=self.get_serializer_context()).data
        )


class VersionDetailApi(_AgreementView):
    @extend_schema(operation_id="agreement_versions_retrieve", responses=VersionOutputSerializer)
    def get(self, request, pk: int):
        return Response(self._version(self.get_object()))


class VersionSignApi(_AgreementView):
    """Sign a version awaiting the client's signature (client admins)."""

    @extend_schema(operation_id="agreement_versions_sign", request=None, responses=VersionOutputSerializer)
    def post(self, request, pk: int):
        self.require_client_admin(request)
        version = dpa_sign_for_client(version=self.get_object(), actor=request.user)
        return Response(self._version(version))


class VersionRejectApi(_AgreementView):
    """Reject a version awaiting the client's signature, saying why (client admins): it goes back
    to the provider as a draft, with the comment."""

    @extend_schema(
        operation_id="agreement_versions_reject", request=RejectInputSerializer, responses=VersionOutputSerializer
    )
    def post(self, request, pk: int):
        self.require_client_admin(request)
        version = self.get_object()
        data = RejectInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = dpa_reject_for_client(version=version, actor=request.user, comment=data.validated_data["comment"])
        return Response(self._version(self.safely_get_queryset().get(pk=version.pk)))


class SubProcessorListApi(_AgreementView):
    """The sub-processors of the active and proposed versions, with objection windows and objections."""

    serializer_class = SubProcessorOutputSerializer

    @extend_schema(operation_id="sub_processors_list", responses=SubProcessorOutputSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.safely_get_queryset())
        return self.get_paginated_response(
            SubProcessorOutputSerializer(page, many=True, context=self.get_serializer_context()).data
        )

    def safely_get_queryset(self):
        return sub_processors_for_company(company=self.request.tenant)


class SubProcessorObjectionApi(_AgreementView):
    """Object to a sub-processor while its objection window is open (client admins)."""

    serializer_class = ObjectionOutputSerializer

    @extend_schema(
        operation_id="sub_processors_object",
        request=ObjectionInputSerializer,
        responses={201: ObjectionOutputSerializer},
    )
    def post(self, request, pk: int):
        self.require_client_admin(request)
        sub = self.get_object()
        data = ObjectionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        objection = sub_processor_object(sub_processor=sub, actor=request.user, reason=data.validated_data["reason"])
        return Response(ObjectionOutputSerializer(objection).data, status=status.HTTP_201_CREATED)

    def safely_get_queryset(self):
        return sub_processors_for_company(company=self.request.tenant)
