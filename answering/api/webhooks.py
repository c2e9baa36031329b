"""Webhook subscriptions of the company, for its client admins: list, create (the signing secret
shown once), read, change, rotate the secret, delete."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from answering.models import WebhookEndpoint
from answering.webhooks import webhook_create, webhook_delete, webhook_secret_rotate, webhook_update
from api.base import TenantAPIView


class WebhookOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "active", "include_caller_name", "include_caller_number", "include_body"]


class WebhookCreatedSerializer(WebhookOutputSerializer):
    secret = serializers.CharField(help_text="Signs every delivery (X-Vastaja-Signature). Shown this once.")

    class Meta(WebhookOutputSerializer.Meta):
        fields = [*WebhookOutputSerializer.Meta.fields, "secret"]


class WebhookInputSerializer(serializers.Serializer):
    # The rule for the URL (https and a public address in production) is the service's.
    url = serializers.CharField(max_length=500)
    active = serializers.BooleanField(required=False, default=True)
    include_caller_name = serializers.BooleanField(required=False, default=True)
    include_caller_number = serializers.BooleanField(required=False, default=True)
    include_body = serializers.BooleanField(required=False, default=True)


class WebhookUpdateSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=500, required=False)
    active = serializers.BooleanField(required=False)
    include_caller_name = serializers.BooleanField(required=False)
    include_caller_number = serializers.BooleanField(required=False)
    include_body = serializers.BooleanField(required=False)


class WebhookListApi(TenantAPIView):
    """The company's webhook subscriptions. Client admins only."""

    api_scope = "webhooks"
    serializer_class = WebhookOutputSerializer

    @extend_schema(operation_id="webhooks_list", responses=WebhookOutputSerializer(many=True))
    def get(self, request):
        self.require_client_admin(request)
        page = self.paginate_queryset(self.safely_get_queryset())
        return self.get_paginated_response(WebhookOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="webhooks_create", request=WebhookInputSerializer, responses={201: WebhookCreatedSerializer}
    )
    def post(self, request):
        self.require_client_admin(request)
        data = WebhookInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint, secret = webhook_create(actor=request.user, **data.validated_data)
        endpoint.secret = secret
        return Response(WebhookCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    def safely_get_queryset(self):
        return WebhookEndpoint.objects.order_by("pk")


class WebhookDetailApi(TenantAPIView):
    """One webhook subscription: read, change (PATCH) or delete. Client admins only."""

    api_scope = "webhooks"
    serializer_class = WebhookOutputSerializer

    @extend_schema(operation_id="webhooks_read", responses=WebhookOutputSerializer)
    def get(self, request, pk: int):
        self.require_client_admin(request)
        return Response(WebhookOutputSerializer(self.get_object()).data)

    @extend_schema(operation_id="webhooks_update", request=WebhookUpdateSerializer, responses=WebhookOutputSerializer)
    def patch(self, request, pk: int):
        self.require_client_admin(request)
        endpoint = self.get_object()
        data = WebhookUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = webhook_update(endpoint=endpoint, actor=request.user, **data.validated_data)
        return Response(WebhookOutputSerializer(endpoint).data)

    @extend_schema(operation_id="webhooks_delete", responses={204: None})
    def delete(self, request, pk: int):
        self.require_client_admin(request)
        webhook_delete(endpoint=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def safely_get_queryset(self):
        return WebhookEndpoint.objects.all()


class WebhookRotateSecretApi(TenantAPIView):
    """A new signing secret, shown once; the old one stops signing at once. Client admins only."""

    api_scope = "webhooks"
    serializer_class = WebhookCreatedSerializer

    @extend_schema(operation_id="webhooks_rotate_secret", request=None, responses=WebhookCreatedSerializer)
    def post(self, request, pk: int):
        self.require_client_admin(request)
        endpoint, secret = webhook_secret_rotate(endpoint=self.get_object(), actor=request.user)
        endpoint.secret = secret
        return Response(WebhookCreatedSerializer(endpoint).data)

    def safely_get_queryset(self):
        return WebhookEndpoint.objects.all()
