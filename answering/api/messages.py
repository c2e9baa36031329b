from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from answering.messages import message_acknowledge, message_mark
from answering.models import Message
from tenants.gates.api import TenantAPIView


class MessageOutputSerializer(serializers.ModelSerializer):
    line = serializers.CharField(source="line.name")

    class Meta:
        model = Message
        fields = ["id", "line", "urgency", "caller_name", "caller_number", "body", "status", "created_at",
                  "acknowledged_at", "escalation_level"]  # fmt: skip


class MessageListApi(TenantAPIView):
    """The company's messages (client users see their own data in full)."""

    api_scope = "messages"
    serializer_class = MessageOutputSerializer

    @extend_schema(operation_id="messages_list", responses=MessageOutputSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.safely_get_queryset())
        return self.get_paginated_response(MessageOutputSerializer(page, many=True).data)

    def safely_get_queryset(self):
        return Message.objects.select_related("line").order_by("-created_at")


class MessageDetailApi(TenantAPIView):
    """One message; the client reading it moves it to "read"."""

    api_scope = "messages"
    serializer_class = MessageOutputSerializer

    @extend_schema(operation_id="messages_read", responses=MessageOutputSerializer)
    def get(self, request, pk: int):
        message = message_mark(message=self.get_object(), status=Message.Status.READ)
        return Response(MessageOutputSerializer(message).data)

    def safely_get_queryset(self):
        return Message.objects.select_related("line")


class MessageAcknowledgeApi(TenantAPIView):
    api_scope = "messages"
    serializer_class = MessageOutputSerializer

    @extend_schema(request=None, responses=MessageOutputSerializer)
    def post(self, request, pk: int):
        message = self.get_object()
        message_mark(message=message, status=Message.Status.READ)
        message = message_acknowledge(message=message, actor=request.user)
        return Response(MessageOutputSerializer(message).data)

    def safely_get_queryset(self):
        return Message.objects.select_related("line")
