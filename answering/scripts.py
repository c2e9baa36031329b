"""Call scripts: drafts, validation and publication.

A step is {"kind": "disclosure" | "ask", "prompt": str, "questions": [...]}. A question is
{"key": str, "label": str, "target": str[, "category": str]}: its target is a message or contact
field (its category comes from the registry) or "message.answer" (the question names its
category). A script publishes only if it opens with the recording disclosure where the line
records, and asks for nothing the DPA in force does not let agents write.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from answering.models import Line, Message, Script, ScriptVersion
from compliance.agreements.selectors import dpa_in_force
from gates.engine import Policy
from tenants.categories import TAXONOMY, covered_by_any, field_category
from tenants.errors import ApplicationError
from tenants.models import User

TARGETS = {
    "message.caller_name": (Message, "caller_name"),
    "message.caller_number": (Message, "caller_number"),
    "message.body": (Message, "body"),
    "message.ticket_reference": (Message, "ticket_reference"),
    "message.technical_details": (Message, "technical_details"),
    "contact.email": ("crm.Contact", "email"),
    "contact.address": ("crm.Contact", "address"),
}


def question_category(question: dict) -> str | None:
    target = question.get("target", "")
    if target == "message.answer":
        return question.get("category")
    model, field = TARGETS[target]
    if isinstance(model, str):
        from django.apps import apps

        model = apps.get_model(model)
    return field_category(model, field)


def script_version_draft(*, script: Script, steps: list, actor: User | None) -> ScriptVersion:
    """A new draft version of a script, with its steps checked for shape."""
    _validate_shape(steps)
    number = (script.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    return ScriptVersion.objects.create(script=script, number=number, steps=steps)


def script_version_publish(*, version: ScriptVersion, actor: User) -> ScriptVersion:
    """Publish a version: from now on it is what agents see, and it never changes."""
    if version.published_at is not None:
        raise ApplicationError("this version is already published", field="version")
    line = version.script.line
    steps = version.steps
    if line.recording_policy != Line.RecordingPolicy.OFF and (not steps or steps[0].get("kind") != "disclosure"):
        raise ApplicationError(
            f"{line.name} records calls, so the script must open with the recording disclosure", field="steps"
        )
    dpa = dpa_in_force(company=connection.tenant)
    writable = (
        frozenset(g.category for g in dpa.grants.all() if g.role == "agent" and g.action == "write")
        if dpa
        else frozenset()
    )
    for step in steps:
        for question in step.get("questions", []):
            category = question_category(question)
            if category and not covered_by_any(writable, category):
                raise ApplicationError(
                    f"question '{question['label']}' asks for {category}, which the data-processing agreement "
                    "does not let agents record",
                    field="steps",
                )
    try:
        with transaction.atomic():
            version.published_at = timezone.now()
            version.published_by = actor
            version.save(update_fields=["published_at", "published_by"])
    except IntegrityError:
        raise ApplicationError("this version is already published", field="version") from None
    return version


def script_current(*, line: Line) -> ScriptVersion | None:
    """The latest published version of the line's script."""
    return ScriptVersion.objects.filter(script__line=line, published_at__isnull=False).order_by("-published_at").first()


# What the desk asks when a line has no published script.
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


@dataclass(frozen=True)
class DeskScript:
    """The script an agent follows on a line: its version (None: the default script), its steps,
    and the questions the agent may write under the DPA in force."""

    version: ScriptVersion | None
    steps: list[dict]
    questions: list[dict]


def desk_script(*, line: Line, policy: Policy) -> DeskScript:
    """The line's current script, with only the questions whose category `policy` lets the agent write."""
    version = script_current(line=line)
    steps = version.steps if version else DEFAULT_SCRIPT
    questions = [
        question
        for step in steps
        for question in step.get("questions", [])
        if (category := question_category(question)) is None or policy.writes_category(category)
    ]
    return DeskScript(version=version, steps=steps, questions=questions)


def _validate_shape(steps) -> None:
    if not isinstance(steps, list) or not steps:
        raise ApplicationError("a script is a non-empty list of steps", field="steps")
    keys = set()
    for n, step in enumerate(steps, 1):
        if not isinstance(step, dict) or step.get("kind") not in ("disclosure", "ask"):
            raise ApplicationError(f"step {n}: kind must be 'disclosure' or 'ask'", field="steps")
        if not str(step.get("prompt", "")).strip() and step["kind"] == "disclosure":
            raise ApplicationError(f"step {n}: a disclosure needs its text as the prompt", field="steps")
        for question in step.get("questions", []):
            label = question.get("label") or question.get("key") or "?"
            if not question.get("key") or question["key"] in keys:
                raise ApplicationError(f"step {n}: question '{label}' needs a unique key", field="steps")
            keys.add(question["key"])
            target = question.get("target")
            if target != "message.answer" and target not in TARGETS:
                raise ApplicationError(f"step {n}: question '{label}' has an unknown target '{target}'", field="steps")
            if target == "message.answer" and question.get("category") not in TAXONOMY:
                raise ApplicationError(f"step {n}: question '{label}' must name a data category", field="steps")


# A support line's default: a ticket reference and the problem, no personal category.
SUPPORT_SCRIPT = [
    {
        "kind": "ask",
        "prompt": "Do you have a ticket or case number?",
        "questions": [{"key": "ticket_reference", "label": "Ticket reference", "target": "message.ticket_reference"}],
    },
    {
        "kind": "ask",
        "prompt": "What is happening, and on which system?",
        "questions": [
            {"key": "technical_details", "label": "Technical details", "target": "message.technical_details"}
        ],
    },
]


def support_line_configure(*, line: Line, remote_support_url: str, actor: User) -> Line:
    """Make a line a technical-support line. Its hand-offs link to the client's remote-support
    tool: the URL must be https and carry no credential, checked here, when it is configured."""
    from django.core.exceptions import ValidationError

    from answering.models import validate_https

    try:
        validate_https(remote_support_url)
    except ValidationError as exc:
        raise ApplicationError(exc.messages[0], field="remote_support_url") from None
    line.is_support_line = True
    line.remote_support_url = remote_support_url
    line.save(update_fields=["is_support_line", "remote_support_url"])
    if not Script.objects.filter(line=line).exists():
        script = Script.objects.create(line=line, name="Technical support")
        script_version_publish(
            version=script_version_draft(script=script, steps=SUPPORT_SCRIPT, actor=actor), actor=actor
        )
    return line


def support_handoff_link(*, message: Message) -> str:
    """The link a support hand-off carries: the tool's URL and the ticket reference, never a credential."""
    from urllib.parse import urlencode, urlsplit, urlunsplit

    line = message.line
    if not line.is_support_line or not line.remote_support_url:
        raise ApplicationError(f"{line.name} is not a support line with a remote-support tool", field="line")
    parts = urlsplit(line.remote_support_url)
    query = "&".join(filter(None, [parts.query, urlencode({"ticket": message.ticket_reference})]))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
