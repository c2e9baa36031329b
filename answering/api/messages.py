from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response

from answering.api.filters import MessageFilterSerializer
from answering.models import Message
from answering.selectors import message_answers, message_list
from answering.services.messages import message_acknowledge, message_mark
from api.base import TenantAPIView
from gates.engine import policy_for_request


class AnswerSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    category = serializers.CharField(help_text="the data category of this answer")
    value = serializers.CharField(allow_blank=True)


class MessageOutputSerializer(serializers.ModelSerializer):
    line = serializers.CharField(source="line.name")
    line_id = serializers.IntegerField()
    call_id = serializers.IntegerField(allow_null=True)
    answers = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = [
            "id",
            "line",
            "line_id",
            "call_id",
            "urgency",
            "caller_name",
            "caller_number",
            "body",
            "answers",
            "ticket_reference",
            "status",
            "created_at",
            "acknowledged_at",
            "escalation_level",
        ]

    @extend_schema_field(AnswerSerializer(many=True))
    def get_answers(self, message):
        return message_answers(message)


def _messages(request):
    return message_list(user=request.user, policy=policy_for_request(request, request.tenant))


class MessageListApi(TenantAPIView):
    """The company's messages (client users see their own data in full), newest first."""

    api_scope = "messages"
    serializer_class = MessageOutputSerializer

    @extend_schema(
        operation_id="messages_list", parameters=[MessageFilterSerializer], responses=MessageOutputSerializer(many=True)
    )
    def get(self, request):
        filters = MessageFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        rows = message_list(
            user=request.user,
            policy=policy_for_request(request, request.tenant),
            **{k: v for k, v in filters.validated_data.items()},
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(MessageOutputSerializer(page, many=True).data)

    def safely_get_queryset(self):
        return _messages(self.request)


class MessageDetailApi(TenantAPIView):
    """One message; the client reading it moves it to "read"."""

    api_scope = "messages"
    serializer_class = MessageOutputSerializer

    @extend_schema(operation_id="messages_read", responses=MessageOutputSerializer)
    def get(self, request, pk: int):
        message = message_mark(message=self.get_object(), status=Message.Status.READ, actor=request.user)
        return Response(MessageOutputSerializer(message).data)

    def safely_get_queryset(self):
        return _messages(self.request)


class MessageAcknowledgeApi(TenantAPIView):
    """Acknowledge a message: an urgent one's escalation stops (its timer is cancelled)."""

    api_scope = "messages"
    serializer_class = MessageOutputSerializer

    @extend_schema(request=None, responses=MessageOutputSerializer)
    def post(self, request, pk: int):
        message = self.get_object()
        message_mark(message=message, status=Message.Status.READ, actor=request.user)
        message = message_acknowledge(message=message, actor=request.user)
        return Response(MessageOutputSerializer(message).data)

    def safely_get_queryset(self):
        return _messages(self.request)
