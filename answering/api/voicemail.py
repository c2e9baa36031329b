import json

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.reverse import reverse

from answering.api.filters import VoicemailFilterSerializer
from answering.models import Voicemail
from answering.playback import AUDIO_CONTENT_TYPE, voicemail_play_response
from answering.selectors import voicemail_list
from api.base import TenantAPIView
from api.schema import ApiErrorSerializer
from gates.engine import policy_for_request


class VoicemailOutputSerializer(serializers.ModelSerializer):
    call_id = serializers.IntegerField()
    line = serializers.CharField(source="call.line.name")
    caller_name = serializers.CharField(source="call.caller_name")
    caller_number = serializers.CharField(source="call.caller_number")
    heard_by_client = serializers.BooleanField(help_text="someone of the company has played it")
    audio_url = serializers.SerializerMethodField()

    class Meta:
        model = Voicemail
        fields = [
            "id",
            "call_id",
            "line",
            "caller_name",
            "caller_number",
            "duration_seconds",
            "created_at",
            "transcription",
            "heard_by_client",
            "audio_url",
        ]

    def get_audio_url(self, voicemail) -> str:
        return reverse("api-voicemail-audio", args=[voicemail.pk], request=self.context.get("request"))


def _voicemails(request, **filters):
    return voicemail_list(user=request.user, policy=policy_for_request(request, request.tenant), **filters)


class VoicemailListApi(TenantAPIView):
    """The company's voicemail, newest first; `audio_url` streams each one (every play is logged)."""

    api_scope = "voicemail"
    serializer_class = VoicemailOutputSerializer

    @extend_schema(
        operation_id="voicemail_list",
        parameters=[VoicemailFilterSerializer],
        responses=VoicemailOutputSerializer(many=True),
    )
    def get(self, request):
        filters = VoicemailFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(_voicemails(request, **filters.validated_data))
        data = VoicemailOutputSerializer(page, many=True, context={"request": request}).data
        return self.get_paginated_response(data)

    def safely_get_queryset(self):
        return _voicemails(self.request)


class VoicemailDetailApi(TenantAPIView):
    api_scope = "voicemail"
    serializer_class = VoicemailOutputSerializer

    @extend_schema(operation_id="voicemail_read", responses=VoicemailOutputSerializer)
    def get(self, request, pk: int):
        voicemail = self.get_object()
        return Response(VoicemailOutputSerializer(voicemail, context={"request": request}).data)

    def safely_get_queryset(self):
        return _voicemails(self.request)


class AudioRenderer(BaseRenderer):
    """Lets a client ask for `Accept: audio/wav`; errors are still JSON bodies."""

    media_type = AUDIO_CONTENT_TYPE
    format = "wav"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else json.dumps(data).encode()


class VoicemailAudioApi(TenantAPIView):
    """The voicemail's audio, decrypted on the fly (a `Range` header is honoured). Every play is
    recorded: a Listen, and an access-log entry on the playback channel."""

    api_scope = "voicemail"
    renderer_classes = [JSONRenderer, AudioRenderer]

    @extend_schema(
        operation_id="voicemail_audio",
        responses={
            (200, AUDIO_CONTENT_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="the whole recording"),
            (206, AUDIO_CONTENT_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="the byte range asked for"),
            (416, AUDIO_CONTENT_TYPE): OpenApiResponse(description="the range asked for is past the end"),
            (404, "application/json"): OpenApiResponse(
                ApiErrorSerializer,
                description="Not found in this company, or the person is not one of its client users; or its "
                "audio is missing from storage (`code` is `audio_missing`).",
            ),
            (409, "application/json"): OpenApiResponse(
                ApiErrorSerializer, description="The stored audio cannot be decrypted (`code` is `audio_unreadable`)."
            ),
            (503, "application/json"): OpenApiResponse(
                ApiErrorSerializer,
                description="The database or the audio storage cannot be reached (`code` is `unavailable` or "
                "`storage_unavailable`); retry after the number of seconds in Retry-After.",
            ),
        },
    )
    def get(self, request, pk: int):
        voicemail = self.get_object()
        return voicemail_play_response(
            request, voicemail=voicemail, user=request.user, policy=policy_for_request(request, request.tenant)
        )

    def safely_get_queryset(self):
        return _voicemails(self.request)
