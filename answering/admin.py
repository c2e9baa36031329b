import datetime as dt

from django.contrib import admin
from django.db import models
from django.http import Http404, HttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from answering.models import BusinessHours, Call, Line, Listen, Voicemail
from scheduling.selectors import rota_gaps
from tenants.files import encrypted_file_read
from tenants.gates.admin import GatedInline, GatedModelAdmin, gated_column


class CallInline(GatedInline):
    model = Call
    fields = ["telephony_sid", "started_at", "status", "caller_number", "caller_name"]
    ordering = ["-started_at"]
    max_num = 0


class BusinessHoursInline(GatedInline):
    model = BusinessHours
    change_roles = add_roles = ("supervisor",)


@admin.register(Line)
class LineAdmin(GatedModelAdmin):
    list_display = ["name", "phone_number", "oncall_gaps", "created_at"]
    search_fields = ["name", "phone_number"]
    fields = ["name", "phone_number", "greeting", "recording_policy", "disclosure", "after_hours",
              "voicemail_max_seconds", "urgent_ack_minutes", "is_support_line", "remote_support_url"]  # fmt: skip
    readonly_fields = ["phone_number"]
    inlines = [BusinessHoursInline, CallInline]
    change_roles = ("supervisor",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # the support tool must be https

    @gated_column(description="on-call gaps, next 7 days")
    def oncall_gaps(self, line):
        now = timezone.now()
        gaps = rota_gaps(line=line, start=now, end=now + dt.timedelta(days=7))
        hours = sum((end - start).total_seconds() for start, end in gaps) / 3600
        return "none" if hours == 0 else f"⚠ {hours:.0f} h uncovered"


@admin.register(Call)
class CallAdmin(GatedModelAdmin):
    list_display = ["telephony_sid", "line", "started_at", "direction", "status", "caller_number", "caller_name"]
    list_filter = ["status", "direction", ("line", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["telephony_sid"]  # personal fields are encrypted: exact matches use blind indexes
    date_hierarchy = "started_at"
    list_select_related = ["line"]
    fields = ["telephony_sid", "line", "started_at", "direction", "status", "caller_number", "caller_name", "notes",
              "contact"]  # fmt: skip
    readonly_fields = ["telephony_sid", "line", "started_at", "direction", "contact"]


@admin.register(Voicemail)
class VoicemailAdmin(GatedModelAdmin):
    list_display = ["__str__", "call", "duration_seconds", "created_at", "transcription", "play"]
    list_select_related = ["call"]
    fields = ["call", "duration_seconds", "created_at", "transcription", "play"]
    readonly_fields = ["call", "duration_seconds", "created_at", "transcription", "play"]
    change_roles = ()

    @gated_column("audio", description="audio")
    def play(self, voicemail):
        url = reverse("admin:answering_voicemail_play", args=[voicemail.pk])
        return format_html('<audio controls preload="none" src="{}"></audio>', url)

    def get_urls(self):
        return [
            path("<int:pk>/play/", self.admin_site.admin_view(self.play_view), name="answering_voicemail_play"),
            *super().get_urls(),
        ]

    def play_view(self, request, pk: int):
        """Stream the decrypted audio through the gates, and log who listened."""
        return self._in_company(request, self._play, pk)

    def _play(self, request, pk: int):
        voicemail = self.get_queryset(request).filter(pk=pk).first()
        if voicemail is None or not self.gate_policy(request).can_read(Voicemail, "audio"):
            raise Http404("No such voicemail.")  # outside the grants, or voice not granted: the same answer
        audio = encrypted_file_read(voicemail.audio)
        Listen.objects.create(voicemail=voicemail, user=request.user)
        response = HttpResponse(audio, content_type="audio/wav")
        response["Cache-Control"] = "private, no-store"
        return response
