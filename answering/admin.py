import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join

from answering.models import BusinessHours, Call, Line, Message, Voicemail
from answering.playback import audio_response, is_continuation, voicemail_audio
from answering.scripts import desk_script
from answering.selectors import call_desk_caller, message_attempts
from answering.services.calls import DESK_ROLES, DISPOSITIONS_WITHOUT_MESSAGE, call_answer, call_dispose
from gates.admin import GatedInline, GatedModelAdmin, gated_column
from gates.admin_views import Fetch, GatedAdminView
from scheduling.selectors import rota_gaps
from tenants.errors import ApplicationError


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
    fields = [
        "name",
        "phone_number",
        "greeting",
        "recording_policy",
        "disclosure",
        "after_hours",
        "voicemail_max_seconds",
        "urgent_ack_minutes",
        "queue_priority",
        "queue_language",
        "queue_hold_message",
        "queue_max_wait_seconds",
        "queue_overflow",
        "is_support_line",
        "remote_support_url",
    ]
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


class IntakeForm(forms.Form):
    """Built from the published script: only the questions whose category the agent may write."""

    urgency = forms.ChoiceField(choices=Message.Urgency.choices, initial=Message.Urgency.NORMAL)

    def __init__(self, *args, questions: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            long = question["target"] in (
                "message.body",
                "message.answer",
                "contact.address",
                "message.technical_details",
            )
            self.fields[question["key"]] = forms.CharField(
                label=question["label"],
                required=False,
                max_length=5000,
                widget=forms.Textarea(attrs={"rows": 3}) if long else forms.TextInput,
            )


@admin.register(Call)
class CallAdmin(GatedModelAdmin):
    list_display = [
        "telephony_sid",
        "line",
        "started_at",
        "direction",
        "status",
        "caller_number",
        "caller_name",
        "answer",
    ]
    list_filter = ["status", "direction", ("line", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["telephony_sid"]  # personal fields are encrypted: exact matches use blind indexes
    date_hierarchy = "started_at"
    list_select_related = ["line"]
    fields = [
        "telephony_sid",
        "line",
        "started_at",
        "direction",
        "status",
        "caller_number",
        "caller_name",
        "notes",
        "contact",
    ]
    readonly_fields = ["telephony_sid", "line", "started_at", "direction"]
    # Picked through the admin's autocomplete: the contacts this person's gates show, searched on
    # the fields they may read.
    autocomplete_fields = ["contact"]

    def get_urls(self):
        desk = self.admin_site.admin_view(AnswerCallView.as_view(self))
        return [path("<int:pk>/answer/", desk, name="answering_call_answer"), *super().get_urls()]

    @gated_column(description="desk")
    def answer(self, call):
        return format_html('<a href="{}">Answer</a>', reverse("admin:answering_call_answer", args=[call.pk]))


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
        if voicemail is None:
            raise Http404("No such voicemail.")  # outside the grants, or voice not granted: the same answer
        audio = voicemail_audio(
            voicemail=voicemail,
            user=request.user,
            policy=self.gate_policy(request),
            path=request.path,
            count_play=not is_continuation(request),
        )
        return audio_response(request, audio)


class AnswerCallView(GatedAdminView):
    """The agent's desk: the line's greeting and script, the caller as far as the gates allow (a
    contact the agent holds no grant on shows as "restricted"), and an intake form holding only the
    fields the agent may write. Saving answers the call with a message (`call_answer`); quick
    dispositions close calls handled without one (`call_dispose`)."""

    roles = DESK_ROLES
    objects = {"pk": Fetch(Call, related=("line",))}

    def get(self, request, *, call: Call):
        script = desk_script(line=call.line, policy=self.policy)
        return self._page(request, call, script, IntakeForm(questions=script.questions))

    def post(self, request, *, call: Call):
        script = desk_script(line=call.line, policy=self.policy)
        form = IntakeForm(request.POST, questions=script.questions)
        if request.POST.get("disposition"):
            try:
                closed = call_dispose(call=call, disposition=request.POST["disposition"], actor=request.user)
            except ApplicationError as exc:
                messages.error(request, exc.message)
                form = IntakeForm(questions=script.questions)
            else:
                messages.success(request, f"{closed}: {closed.get_disposition_display()}.")
                return HttpResponseRedirect(reverse("admin:answering_call_changelist"))
        elif form.is_valid():
            try:
                call_answer(
                    call=call, actor=request.user, values=form.cleaned_data, urgency=form.cleaned_data["urgency"]
                )
            except ApplicationError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, f"Message taken for {call.line.name}.")
                return HttpResponseRedirect(reverse("admin:answering_call_changelist"))
        return self._page(request, call, script, form)

    def _page(self, request, call: Call, script, form: IntakeForm):
        caller = call_desk_caller(
            call=call,
            contact=self.related(call, "contact"),
            policy=self.policy,
        )
        context = {
            "title": f"Answer {call}",
            "call": call,
            "line": call.line,
            "steps": script.steps,
            "version": script.version,
            "caller": caller.known,
            "caller_restricted": caller.restricted,
            "caller_number": caller.number,
            "form": form,
            "quick": [(d.value, d.label) for d in DISPOSITIONS_WITHOUT_MESSAGE],
        }
        return self.render("admin/answering/answer_call.html", context)


@admin.register(Message)
class MessageAdmin(GatedModelAdmin):
    list_display = [
        "__str__",
        "line",
        "urgency",
        "status",
        "created_at",
        "caller_name",
        "caller_number",
        "escalation_level",
    ]
    list_filter = ["urgency", "status", ("line", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["line"]
    date_hierarchy = "created_at"
    # Each answer carries its own category (health, say): the gated base shows only the granted
    # ones (categorised_cells), as the export does.
    fields = [
        "line",
        "call",
        "urgency",
        "status",
        "caller_name",
        "caller_number",
        "body",
        "answers",
        "created_at",
        "acknowledged_at",
        "escalation_level",
        "delivery_history",
    ]
    readonly_fields = fields
    change_roles = ()

    @admin.display(description="delivery history")
    def delivery_history(self, obj):
        """Every send and escalation, with why one was not sent (a refusal by the DPA says so)."""
        attempts = list(message_attempts(message=obj))
        if not attempts:
            return "Not delivered anywhere yet."
        zone = timezone.get_current_timezone_name()
        return format_html(
            "<table>{}</table>",
            format_html_join(
                "",
                "<tr><td>{} ({})</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        date_format(timezone.localtime(a.created_at), "SHORT_DATETIME_FORMAT"),
                        zone,
                        a.get_channel_display(),
                        f"escalation, step {a.escalation_level}" if a.escalation_level else "delivery",
                        a.get_status_display(),
                        a.error,
                    )
                    for a in attempts
                ),
            ),
        )
