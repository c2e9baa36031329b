import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.db import models, transaction
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from answering.messages import message_take
from answering.models import BusinessHours, Call, Disposition, Line, Message, Voicemail
from answering.playback import audio_response, is_continuation, voicemail_audio
from answering.scripts import question_category, script_current
from crm.models import Contact
from crm.services import contact_update
from gates.admin import GatedInline, GatedModelAdmin, gated_column
from gates.signals import report_read
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


DEFAULT_SCRIPT = [
    {
        "kind": "ask",
        "prompt": "May I have your name?",
        "questions": [{"key": "caller_name", "label": "Caller's name", "target": "message.caller_name"}],
    },
    {
        "kind": "ask",
        "prompt": "How can we help?",
        "questions": [{"key": "body", "label": "Message", "target": "message.body"}],
    },
]


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
    readonly_fields = ["telephony_sid", "line", "started_at", "direction", "contact"]

    def get_urls(self):
        desk = self.admin_site.admin_view(AnswerCallView(self))
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


def _question_allowed(policy, question: dict) -> bool:
    category = question_category(question)
    return category is None or policy.writes_category(category)


class AnswerCallView:
    """The agent's desk: the line's greeting and script, the caller as far as the DPA allows, and an
    intake form holding only the fields the agent may write. Saving creates the message and the
    contact update in one transaction; quick dispositions close calls handled without one."""

    QUICK = [Disposition.INFO_GIVEN, Disposition.WRONG_NUMBER, Disposition.HUNG_UP]

    def __init__(self, model_admin: GatedModelAdmin):
        self.model_admin = model_admin

    def __call__(self, request, pk: int):
        return self.model_admin._in_company(request, self._view, pk)

    def _view(self, request, pk: int):
        admin_ = self.model_admin
        policy = admin_.gate_policy(request)
        call = admin_.get_queryset(request).select_related("line", "contact").filter(pk=pk).first()
        if call is None or policy.role not in ("agent", "supervisor"):
            raise Http404("No such call.")
        version = script_current(line=call.line)
        steps = version.steps if version else DEFAULT_SCRIPT
        questions = [q for step in steps for q in step.get("questions", []) if _question_allowed(policy, q)]
        form = IntakeForm(request.POST or None, questions=questions)
        if request.method == "POST" and request.POST.get("disposition") in self.QUICK:
            Call.objects.filter(pk=call.pk).update(
                disposition=request.POST["disposition"], agent=request.user, script_version=version
            )
            messages.success(request, f"{call}: {Disposition(request.POST['disposition']).label}.")
            return HttpResponseRedirect(reverse("admin:answering_call_changelist"))
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    self._save(request, call, version, form)
            except ApplicationError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, f"Message taken for {call.line.name}.")
                return HttpResponseRedirect(reverse("admin:answering_call_changelist"))
        report_read(
            user=request.user,
            channel="admin",
            model=Call,
            object_ids=[call.pk],
            fields=[f for f in ("caller_number",) if policy.can_read(Call, f)],
            path=request.path,
        )
        caller = []
        if call.contact is not None:
            report_read(
                user=request.user,
                channel="admin",
                model=Contact,
                object_ids=[call.contact.pk],
                fields=[f for f in ("name", "phone_number", "email") if policy.can_read(Contact, f)],
                path=request.path,
            )
            for field in ("name", "phone_number", "email"):
                readable = policy.can_read(Contact, field)
                value = getattr(call.contact, field) if readable else "restricted by DPA"
                caller.append((Contact._meta.get_field(field).verbose_name, value))
        context = {
            **admin_.admin_site.each_context(request),
            "title": f"Answer {call}",
            "opts": Call._meta,
            "call": call,
            "line": call.line,
            "steps": steps,
            "version": version,
            "caller": caller,
            "caller_number": call.caller_number if policy.can_read(Call, "caller_number") else "restricted by DPA",
            "form": form,
            "quick": [(d.value, d.label) for d in self.QUICK],
        }
        return TemplateResponse(request, "admin/answering/answer_call.html", context)

    def _save(self, request, call, version, form: IntakeForm) -> None:
        values = {"caller_name": "", "caller_number": "", "body": "", "ticket_reference": "", "technical_details": ""}
        answers, contact_updates = {}, {}
        for question in form.questions:
            value = form.cleaned_data.get(question["key"], "").strip()
            target = question["target"]
            if not value:
                continue
            if target.startswith("message.") and target != "message.answer":
                values[target.split(".", 1)[1]] = value
            elif target == "message.answer":
                answers[question["key"]] = {
                    "label": question["label"],
                    "category": question["category"],
                    "value": value,
                }
            else:
                contact_updates[target.split(".", 1)[1]] = value
        message_take(
            line=call.line,
            actor=request.user,
            urgency=form.cleaned_data["urgency"],
            call=call,
            contact=call.contact,
            answers=answers,
            **values,
        )
        if contact_updates and call.contact is not None:
            contact_update(contact=call.contact, actor=request.user, **contact_updates)
        Call.objects.filter(pk=call.pk).update(
            disposition=Disposition.MESSAGE_TAKEN, agent=request.user, script_version=version
        )


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
    ]
    readonly_fields = fields
    change_roles = ()
