import datetime as dt
import json

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join

from answering.models import (
    BusinessHours,
    Call,
    Disposition,
    Line,
    Message,
    Script,
    ScriptVersion,
    Transfer,
    Voicemail,
)
from answering.playback import voicemail_play_response
from answering.scripts import (
    DEFAULT_SCRIPT,
    DeskScript,
    call_facts,
    condition_text,
    desk_script,
    script_path,
    script_preview,
    script_run,
    script_version_draft,
    script_version_publish,
    script_version_update,
)
from answering.selectors import call_desk_caller, message_attempts
from answering.services.calls import (
    DESK_ROLES,
    DISPOSITIONS_WITH_MESSAGE,
    DISPOSITIONS_WITHOUT_MESSAGE,
    call_answer,
    call_dispose,
)
from answering.transfer_views import SUGGESTED_WRAP_UP, TransferView, transfer_panel_context
from crm.blind_index import company_region
from desk.services import presence_call_done
from gates.admin import GatedInline, GatedModelAdmin, gated_column
from gates.admin_list import url_with_pk
from gates.admin_views import Fetch, GatedAdminView
from gates.context import context_memo
from scheduling.selectors import rota_gaps_by_line
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
        # Every line's gaps in one query, once per request (the gate context's memo): a list of
        # lines makes as many queries for ten lines as for one.
        memo = context_memo()
        if "oncall_gaps" not in memo:
            now = timezone.now()
            memo["oncall_gaps"] = (now, rota_gaps_by_line(start=now, end=now + dt.timedelta(days=7)))
        now, by_line = memo["oncall_gaps"]
        gaps = by_line.get(line.pk, [(now, now + dt.timedelta(days=7))])
        hours = sum((end - start).total_seconds() for start, end in gaps) / 3600
        return "none" if hours == 0 else f"⚠ {hours:.0f} h uncovered"


LONG_TARGETS = ("message.body", "message.answer", "contact.address", "message.technical_details")


class IntakeForm(forms.Form):
    """Built from the published script: only the questions whose category the agent may write,
    each with the widget of its type. Which are required depends on the branch the answers lead
    down, so `clean` follows the script (`script_run`) and names each missing or bad answer; the
    result, `self.run`, carries the path's outcome (`run.path.outcome`: its action, and for a
    warm transfer its target) for the desk and the transfer engine."""

    wrap_up = forms.ChoiceField(
        label="Wrap-up",
        choices=[("", "—"), *[(d.value, d.label) for d in DISPOSITIONS_WITH_MESSAGE]],
        error_messages={"required": "Choose how the call ended (the wrap-up) before saving."},
    )
    urgency = forms.ChoiceField(choices=Message.Urgency.choices, initial=Message.Urgency.NORMAL)

    def __init__(self, *args, script: DeskScript, facts: dict, region: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.script, self.facts, self.region = script, facts, region
        self.questions = script.questions
        self.run = None
        for question in self.questions:
            self.fields[question["key"]] = _question_field(question)

    def clean(self):
        cleaned = super().clean()
        values = {q["key"]: cleaned.get(q["key"]) or "" for q in self.questions}
        self.run = script_run(script=self.script, values=values, facts=self.facts, region=self.region)
        for key, text in self.run.errors.items():
            self.add_error(key, text)
        return cleaned


def _question_field(question: dict) -> forms.Field:
    label, kind = question["label"], question.get("type", "text")
    attrs = {"data-key": question["key"]}
    if kind == "choice":
        # Checked by the script (answer_clean), so the error names the question and its choices.
        choices = [("", "—"), *[(c, c) for c in question.get("choices", [])]]
        return forms.CharField(label=label, required=False, widget=forms.Select(attrs=attrs, choices=choices))
    if kind == "date":
        return forms.CharField(label=label, required=False, widget=forms.DateInput(attrs={**attrs, "type": "date"}))
    if kind == "email":
        return forms.CharField(label=label, required=False, max_length=254, widget=forms.EmailInput(attrs=attrs))
    if kind == "phone":
        return forms.CharField(
            label=label, required=False, max_length=40, widget=forms.TextInput(attrs={**attrs, "inputmode": "tel"})
        )
    long = question["target"] in LONG_TARGETS
    widget = forms.Textarea(attrs={**attrs, "rows": 3}) if long else forms.TextInput(attrs)
    return forms.CharField(label=label, required=False, max_length=5000, widget=widget)


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
        "disposition",
        "answer",
    ]
    list_filter = ["status", "direction", ("line", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["telephony_sid"]  # personal fields are encrypted: exact matches use blind indexes
    date_hierarchy = "started_at"
    list_select_related = ["line"]
    list_loads = ()  # __str__ reads telephony_sid, a column
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
        transfer = self.admin_site.admin_view(TransferView.as_view(self))
        return [
            path("<int:pk>/answer/", desk, name="answering_call_answer"),
            path("<int:pk>/transfer/", transfer, name="answering_call_transfer"),
            *super().get_urls(),
        ]

    @gated_column(description="desk")
    def answer(self, call):
        return format_html('<a href="{}">Answer</a>', url_with_pk("admin:answering_call_answer", call.pk))


@admin.register(Voicemail)
class VoicemailAdmin(GatedModelAdmin):
    list_display = ["__str__", "call", "duration_seconds", "created_at", "transcription", "play"]
    list_select_related = ["call"]
    fields = ["call", "duration_seconds", "created_at", "transcription", "play"]
    readonly_fields = ["call", "duration_seconds", "created_at", "transcription", "play"]
    change_roles = ()

    @gated_column("audio", description="audio")
    def play(self, voicemail):
        url = url_with_pk("admin:answering_voicemail_play", voicemail.pk)
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
        return voicemail_play_response(
            request, voicemail=voicemail, user=request.user, policy=self.gate_policy(request)
        )


class AnswerCallView(GatedAdminView):
    """The agent's desk: the line's greeting and script, the caller as far as the gates allow (a
    contact the agent holds no grant on shows as "restricted"), and an intake form holding only the
    fields the agent may write. Saving answers the call with a message (`call_answer`); quick
    dispositions close calls handled without one (`call_dispose`)."""

    roles = DESK_ROLES
    objects = {"pk": Fetch(Call, related=("line",))}

    def get(self, request, *, call: Call):
        script, facts, caller = self._script(call)
        return self._page(request, call, script, self._form(None, call, script, facts, caller), caller)

    def post(self, request, *, call: Call):
        script, facts, caller = self._script(call)
        form = self._form(request.POST, call, script, facts, caller)
        if request.POST.get("disposition"):
            try:
                closed = call_dispose(call=call, disposition=request.POST["disposition"], actor=request.user)
            except ApplicationError as exc:
                messages.error(request, exc.message)
                form = self._form(None, call, script, facts, caller)
            else:
                presence_call_done(user=request.user)
                messages.success(request, f"{closed}: {closed.get_disposition_display()}.")
                return HttpResponseRedirect(reverse("admin:answering_call_changelist"))
        elif form.is_valid():
            try:
                call_answer(
                    call=call,
                    actor=request.user,
                    values=form.cleaned_data,
                    disposition=form.cleaned_data["wrap_up"],
                    urgency=form.cleaned_data["urgency"],
                )
            except ApplicationError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                presence_call_done(user=request.user)
                closed = Disposition(form.cleaned_data["wrap_up"]).label
                messages.success(request, f"{call} wrapped up for {call.line.name}: {closed.lower()}.")
                return HttpResponseRedirect(reverse("admin:answering_call_changelist"))
        return self._page(request, call, script, form, caller)

    def _script(self, call: Call):
        caller = call_desk_caller(call=call, contact=self.related(call, "contact"), policy=self.policy)
        script = desk_script(line=call.line, policy=self.policy)
        return script, call_facts(call=call, line=call.line), caller

    def _form(self, data, call: Call, script, facts, caller) -> IntakeForm:
        # The known caller's name and number are filled in, where the agent may read and write them.
        initial = {}
        outcome = script_path(script.steps, answers={}, facts=facts).outcome
        initial["wrap_up"] = outcome.disposition if outcome.disposition in DISPOSITIONS_WITH_MESSAGE else ""
        # After a warm transfer, what it came to: put through, or back with the caller for a message.
        latest = self.queryset(Transfer).filter(call_id=call.pk).only("state").order_by("-started_at", "-pk").first()
        if latest is not None and latest.state in SUGGESTED_WRAP_UP:
            initial["wrap_up"] = SUGGESTED_WRAP_UP[latest.state]
        initial["urgency"] = outcome.urgency
        for question in script.questions:
            if question["target"] == "message.caller_name" and caller.name:
                initial[question["key"]] = caller.name
            elif question["target"] == "message.caller_number" and caller.call_back:
                initial[question["key"]] = caller.call_back
        return IntakeForm(data, script=script, facts=facts, region=company_region(), initial=initial)

    def _page(self, request, call: Call, script, form: IntakeForm, caller):
        answers = {q["key"]: form.data.get(q["key"], "") for q in script.questions} if form.is_bound else {}
        facts = form.facts
        path = script_path(script.steps, answers=answers, facts=facts)
        on_path = {step["id"] for step in path.steps}
        labels = {q["key"]: q["label"] for step in script.steps for q in step.get("questions", [])}
        writable = {q["key"] for q in script.questions}
        steps = [
            {
                **step,
                "on_path": step["id"] in on_path,
                "condition": condition_text(step.get("when"), labels=labels),
                "when_json": json.dumps(step.get("when")) if step.get("when") else "",
                "fields": [
                    (form[q["key"]], bool(q.get("required"))) for q in step.get("questions", []) if q["key"] in writable
                ],
                "withheld": [q["label"] for q in step.get("questions", []) if q["key"] not in writable],
            }
            for step in script.steps
        ]
        context = {
            "title": f"Answer {call}",
            "call": call,
            "line": call.line,
            "steps": steps,
            "facts_json": json.dumps(facts),
            "facts": facts,
            "outcome": path.outcome,
            "version": script.version,
            "caller": caller.known,
            "caller_restricted": caller.restricted,
            "caller_number": caller.number,
            "form": form,
            "quick": [(d.value, d.label) for d in DISPOSITIONS_WITHOUT_MESSAGE],
            **transfer_panel_context(self, call),
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


SCRIPT_EDITORS = ("supervisor",)


@admin.register(Script)
class ScriptAdmin(GatedModelAdmin):
    """A line's script. Supervisors add one here, then write and publish its versions on the
    script page (`answering_script_edit`)."""

    list_display = ["name", "line", "versions"]
    list_select_related = ["line"]
    fields = ["name", "line"]
    change_roles = add_roles = SCRIPT_EDITORS

    @gated_column(description="versions")
    def versions(self, script):
        return format_html(
            '<a href="{}">Drafts, preview and publish</a>', url_with_pk("admin:answering_script_new", script.pk)
        )

    def get_urls(self):
        new = self.admin_site.admin_view(ScriptDraftNewView.as_view(self))
        return [path("<int:pk>/draft/", new, name="answering_script_new"), *super().get_urls()]


@admin.register(ScriptVersion)
class ScriptVersionAdmin(GatedModelAdmin):
    """Versions are written on the script page; here they are listed and read. A published one
    never changes (the database refuses it)."""

    list_display = ["__str__", "published_at", "published_by", "created_at", "open"]
    list_select_related = ["script", "script__line", "published_by"]
    fields = ["script", "number", "published_at", "published_by", "created_at", "steps"]
    readonly_fields = fields
    change_roles = ()

    @gated_column(description="script page")
    def open(self, version):
        return format_html(
            '<a href="{}">Preview every path</a>', url_with_pk("admin:answering_script_edit", version.pk)
        )

    def get_urls(self):
        edit = self.admin_site.admin_view(ScriptEditView.as_view(self))
        return [path("<int:pk>/edit/", edit, name="answering_script_edit"), *super().get_urls()]


class ScriptDraftNewView(GatedAdminView):
    """A new draft of a script: a copy of its latest version (or of the default script), to edit."""

    roles = SCRIPT_EDITORS
    objects = {"pk": Fetch(Script, related=("line",))}

    def get(self, request, *, script: Script):
        latest = self.queryset(ScriptVersion).filter(script=script).order_by("-number").first()
        if latest is not None and latest.published_at is None:
            return HttpResponseRedirect(reverse("admin:answering_script_edit", args=[latest.pk]))
        return self._render_new(request, script, latest)

    def post(self, request, *, script: Script):
        latest = self.queryset(ScriptVersion).filter(script=script).order_by("-number").first()
        draft = script_version_draft(
            script=script, steps=latest.steps if latest else DEFAULT_SCRIPT, actor=request.user
        )
        messages.success(request, f"{draft} is a new draft: edit it, preview every path, then publish it.")
        return HttpResponseRedirect(reverse("admin:answering_script_edit", args=[draft.pk]))

    def _render_new(self, request, script, latest):
        context = {"title": f"New draft of {script}", "script": script, "latest": latest}
        return self.render("admin/answering/script_new.html", context)


class ScriptStepsForm(forms.Form):
    steps = forms.CharField(widget=forms.Textarea(attrs={"rows": 24, "cols": 100, "spellcheck": "false"}))

    def clean_steps(self):
        try:
            return json.loads(self.cleaned_data["steps"])
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None


class ScriptEditView(GatedAdminView):
    """The supervisor's script page: a draft's steps (JSON, see answering.scripts), saved through
    the same checks as any draft, every path through it previewed with the answers that lead
    there, and publication, which checks each path against the DPA in force and the recording
    disclosure. A published version is shown read-only, with "New draft" to change it."""

    roles = SCRIPT_EDITORS
    objects = {"pk": Fetch(ScriptVersion, related=("script",))}

    def get(self, request, *, scriptversion: ScriptVersion):
        form = ScriptStepsForm(initial={"steps": json.dumps(scriptversion.steps, indent=2, ensure_ascii=False)})
        return self._page(request, scriptversion, form)

    def post(self, request, *, scriptversion: ScriptVersion):
        version = scriptversion
        if "publish" in request.POST:
            try:
                script_version_publish(version=version, actor=request.user)
            except ApplicationError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, f"{version} is published: agents follow it from the next call.")
            return HttpResponseRedirect(reverse("admin:answering_script_edit", args=[version.pk]))
        form = ScriptStepsForm(request.POST)
        if form.is_valid():
            try:
                script_version_update(version=version, steps=form.cleaned_data["steps"], actor=request.user)
            except ApplicationError as exc:
                form.add_error("steps", exc.message)
            else:
                messages.success(request, f"{version} saved. Check the paths below, then publish.")
                return HttpResponseRedirect(reverse("admin:answering_script_edit", args=[version.pk]))
        return self._page(request, version, form)

    def _page(self, request, version: ScriptVersion, form: ScriptStepsForm):
        try:
            paths, problem = script_preview(version.steps), ""
        except ApplicationError as exc:
            paths, problem = [], exc.message
        context = {
            "title": f"Script: {version}",
            "version": version,
            "script": version.script,
            "form": form,
            "paths": paths,
            "problem": problem,
        }
        return self.render("admin/answering/script_edit.html", context)
