"""The contacts API: list and search (through the blind indexes), read, create, update, and the
consent history. Client admins write; members read."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from api.base import TenantAPIView
from crm.api.serializers import (
    ConsentOutputSerializer,
    ContactInputSerializer,
    ContactOutputSerializer,
    ContactQuerySerializer,
)
from crm.models import ConsentRecord, Contact
from crm.selectors import consent_history, contact_list, contact_search
from crm.services import contact_create, contact_update


class ContactListApi(TenantAPIView):
    """The company's contacts, newest first; `q` searches exactly (number, address or whole name)."""

    api_scope = "contacts"
    serializer_class = ContactOutputSerializer

    @extend_schema(
        operation_id="contacts_list", parameters=[ContactQuerySerializer], responses=ContactOutputSerializer(many=True)
    )
    def get(self, request):
        query = ContactQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        contacts = contact_search(query=query.validated_data.get("q", ""))
        ordering = query.validated_data["ordering"]
        page = self.paginate_queryset(contacts.order_by(ordering, ordering.replace("created_at", "pk")))
        return self.get_paginated_response(ContactOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="contacts_create", request=ContactInputSerializer, responses={201: ContactOutputSerializer}
    )
    def post(self, request):
        self.require_client_admin(request)
        data = ContactInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contact = contact_create(actor=request.user, **data.validated_data)
        return Response(ContactOutputSerializer(contact).data, status=status.HTTP_201_CREATED)

    def safely_get_queryset(self):
        return contact_list()


class ContactDetailApi(TenantAPIView):
    api_scope = "contacts"
    serializer_class = ContactOutputSerializer

    @extend_schema(operation_id="contacts_retrieve", responses=ContactOutputSerializer)
    def get(self, request, pk: int):
        return Response(ContactOutputSerializer(self.get_object()).data)

    @extend_schema(
        operation_id="contacts_update", request=ContactInputSerializer(partial=True), responses=ContactOutputSerializer
    )
    def patch(self, request, pk: int):
        self.require_client_admin(request)
        contact = self.get_object()
        data = ContactInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        contact_update(contact=contact, actor=request.user, **data.validated_data)
        return Response(ContactOutputSerializer(contact).data)

    def safely_get_queryset(self):
        # Merged duplicates stay readable by id: they say which contact they were merged into.
        return Contact.objects.all()


class ContactConsentListApi(TenantAPIView):
    """A contact's consent history, newest first."""

    api_scope = "contacts"
    serializer_class = ConsentOutputSerializer

    @extend_schema(operation_id="contacts_consents_list", responses=ConsentOutputSerializer(many=True))
    def get(self, request, pk: int):
        contact = Contact.objects.filter(pk=pk).first()
        if contact is None:
            raise NotFound
        page = self.paginate_queryset(consent_history(contact=contact))
        return self.get_paginated_response(ConsentOutputSerializer(page, many=True).data)

    def safely_get_queryset(self):
        return ConsentRecord.objects.filter(contact_id=self.kwargs.get("pk")).select_related("recorded_by")
