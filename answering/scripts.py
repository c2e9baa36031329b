"""Call scripts: drafts, branches, validation, publication and the path an agent follows.

A script is a list of steps, followed in order. Each step has an `id`, a `kind` and a `prompt`,
and may carry a condition, `when`: a step whose condition does not hold on this call is skipped.

- `disclosure`: the recording disclosure, said first where the line records;
- `ask`: questions. A question is {"key", "label", "target"[, "category"], "type", "required"[,
  "choices"]}: its target is a message or contact field (its category comes from the registry)
  or "message.answer" (the question names its category); its type is text, phone, email,
  choice or date;
- `info`: information the agent gives; the script goes on;
- the actions, which end the path: `message` (take a message, with an `urgency`), `book` (book
  an appointment), `transfer` (warm-transfer to `target`: "oncall" or an E.164 number; the
  transfer itself is the desk's, see `ScriptOutcome`) and `end`. A path that reaches no action
  ends by taking a message.

A condition is {"answer": key, "is": value}, {"answer": key, "in": [values]}, {"answered": key},
{"business_hours": bool}, {"caller_known": bool}, {"all": [conditions]}, {"any": [conditions]}
or {"not": condition}; an answer it names must be asked in an earlier step.

Since conditions compare answers with the values they name, the branches are finite: every
path a call can take is one assignment of those values (plus "anything else"), and publishing
checks each path against the DPA in force and the recording disclosure, so a branch that asks
for an ungranted category is refused at design time, not at the desk.
"""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from answering.models import BusinessHours, Call, Line, Message, Script, ScriptVersion
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
QUESTION_TYPES = ("text", "phone", "email", "choice", "date")
ACTIONS = ("message", "book", "transfer", "end")  # each ends the path
KINDS = ("disclosure", "ask", "info", *ACTIONS)
# The wrap-up an action suggests; the agent confirms or changes it.
ACTION_DISPOSITIONS = {
    "message": "message_taken",
    "book": "appointment",
    "transfer": "transferred",
    "end": "info_given",
}
PATH_LIMIT = 256  # branches checked at publication; past it the script is refused as too tangled
_ELSE = "\x00else"  # "any other answer" when the branches are enumerated


def question_category(question: dict) -> str | None:
    target = question.get("target", "")
    if target == "message.answer":
        return question.get("category")
    model, field_name = TARGETS[target]
    if isinstance(model, str):
        from django.apps import apps

        model = apps.get_model(model)
    return field_category(model, field_name)


def steps_normalise(steps: list) -> list:
    """The stored form of a script: every step with an id, every question with its type and
    whether it is required. Scripts written before branching (a plain list of steps) read as the
    same script with text questions, none required, ending in taking a message."""
    if not isinstance(steps, list):
        return steps
    used = {step.get("id") for step in steps if isinstance(step, dict) and step.get("id")}
    counter = itertools.count(1)
    out = []
    for step in steps:
        if not isinstance(step, dict):
            out.append(step)
            continue
        step = dict(step)
        if not step.get("id"):
            step["id"] = next(f"s{n}" for n in counter if f"s{n}" not in used)
            used.add(step["id"])
        if step.get("kind") == "ask":
            step["questions"] = [
                {"type": "text", "required": False, **q} if isinstance(q, dict) else q
                for q in step.get("questions", [])
            ]
        out.append(step)
    return out


def script_version_draft(*, script: Script, steps: list, actor: User | None) -> ScriptVersion:
    """A new draft version of a script, with its steps and conditions checked for shape."""
    steps = steps_normalise(steps)
    _validate_shape(steps)
    number = (script.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    return ScriptVersion.objects.create(script=script, number=number, steps=steps)


def script_version_update(*, version: ScriptVersion, steps: list, actor: User) -> ScriptVersion:
    """Change a draft's steps. A published version never changes (and the database refuses it)."""
    if version.published_at is not None:
        raise ApplicationError("a published version cannot change: save the changes as a new draft", field="steps")
    steps = steps_normalise(steps)
    _validate_shape(steps)
    version.steps = steps
    version.save(update_fields=["steps"])
    return version


def script_version_publish(*, version: ScriptVersion, actor: User) -> ScriptVersion:
    """Publish a version: from now on it is what agents see, and it never changes. Every branch
    is checked first: it opens with the recording disclosure where the line records, and asks
    for nothing the DPA in force does not let agents record."""
    if version.published_at is not None:
        raise ApplicationError("this version is already published", field="version")
    line = version.script.line
    steps = steps_normalise(version.steps)
    _validate_shape(steps)
    dpa = dpa_in_force(company=connection.tenant)
    writable = (
        frozenset(g.category for g in dpa.grants.all() if g.role == "agent" and g.action == "write")
        if dpa
        else frozenset()
    )
    for path in script_paths(steps):
        where = f" on the branch where {path.description}" if path.description else ""
        if line.recording_policy != Line.RecordingPolicy.OFF and (
            not path.steps or path.steps[0].get("kind") != "disclosure"
        ):
            raise ApplicationError(
                f"{line.name} records calls, so every branch must open with the recording disclosure{where}",
                field="steps",
            )
        for question in path.questions:
            category = question_category(question)
            if category and not covered_by_any(writable, category):
                raise ApplicationError(
                    f"question '{question['label']}'{where} asks for {category}, which the data-processing "
                    "agreement does not let agents record",
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
DEFAULT_SCRIPT = steps_normalise(
    [
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
)


# Conditions ---------------------------------------------------------------------------------


def condition_holds(condition: dict | None, *, answers: Mapping[str, str], facts: Mapping[str, bool]) -> bool:
    """Whether a step's condition holds, given the answers so far and the call's facts
    (business_hours, caller_known)."""
    if not condition:
        return True
    if "all" in condition:
        return all(condition_holds(c, answers=answers, facts=facts) for c in condition["all"])
    if "any" in condition:
        return any(condition_holds(c, answers=answers, facts=facts) for c in condition["any"])
    if "not" in condition:
        return not condition_holds(condition["not"], answers=answers, facts=facts)
    if "answered" in condition:
        return bool(str(answers.get(condition["answered"]) or "").strip())
    if "answer" in condition:
        value = str(answers.get(condition["answer"]) or "").strip().casefold()
        wanted = condition["in"] if "in" in condition else [condition.get("is")]
        return value in {str(w).strip().casefold() for w in wanted}
    for fact in ("business_hours", "caller_known"):
        if fact in condition:
            return bool(facts.get(fact)) == bool(condition[fact])
    return False


def condition_text(condition: dict | None, *, labels: Mapping[str, str] | None = None, negate: bool = False) -> str:
    """A condition in words (or its opposite, `negate`), for the supervisor's preview, the desk
    and the portal."""
    if not condition:
        return ""
    labels = labels or {}
    if "not" in condition:
        return condition_text(condition["not"], labels=labels, negate=not negate)
    if "all" in condition or "any" in condition:
        joined = (" and " if "all" in condition else " or ").join(
            condition_text(c, labels=labels) for c in condition.get("all", condition.get("any"))
        )
        return f"not ({joined})" if negate else joined
    if "answered" in condition:
        name = labels.get(condition["answered"], condition["answered"])
        return f"{name} is {'not ' if negate else ''}answered"
    if "answer" in condition:
        name = labels.get(condition["answer"], condition["answer"])
        if "in" in condition:
            values = ", ".join(f"'{v}'" for v in condition["in"])
            return f"{name} is {'none' if negate else 'one'} of {values}"
        return f"{name} is {'not ' if negate else ''}'{condition.get('is')}'"
    for fact, yes, no in (
        ("business_hours", "in business hours", "outside business hours"),
        ("caller_known", "the caller is known", "the caller is not known"),
    ):
        if fact in condition:
            return yes if bool(condition[fact]) != negate else no
    return "?"


def _condition_atoms(condition: dict | None, into: dict) -> None:
    """Collect what a condition tests: {answer key: {values}}, and the facts by name."""
    if not condition:
        return
    for key in ("all", "any"):
        for c in condition.get(key, []):
            _condition_atoms(c, into)
    if "not" in condition:
        _condition_atoms(condition["not"], into)
    if "answered" in condition:
        into.setdefault(("answer", condition["answered"]), set()).add("")
    if "answer" in condition:
        values = condition["in"] if "in" in condition else [condition.get("is")]
        into.setdefault(("answer", condition["answer"]), set()).update(str(v).strip().casefold() for v in values)
    for fact in ("business_hours", "caller_known"):
        if fact in condition:
            into.setdefault(("fact", fact), {True, False})


# Paths --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScriptOutcome:
    """Where a path ends: its action, the step that says so, and what the action needs. The desk
    suggests the wrap-up (`disposition`); a `transfer` names its `target` ("oncall" or an E.164
    number) for the warm-transfer engine to dial."""

    action: str
    step_id: str = ""
    urgency: str = Message.Urgency.NORMAL
    target: str = ""
    prompt: str = ""

    @property
    def disposition(self) -> str:
        return ACTION_DISPOSITIONS[self.action]


@dataclass(frozen=True)
class ScriptPath:
    """One branch through a script: the steps on it, its questions, and its outcome. Its
    description says which answers and facts lead there (empty for a script without branches)."""

    steps: list[dict]
    outcome: ScriptOutcome
    description: str = ""

    @property
    def questions(self) -> list[dict]:
        return [q for step in self.steps for q in step.get("questions", [])]


def script_path(steps: list[dict], *, answers: Mapping[str, str], facts: Mapping[str, bool]) -> ScriptPath:
    """The path a call takes, given its answers and facts: the steps whose conditions hold, up
    to the first action."""
    taken = []
    for step in steps:
        if not condition_holds(step.get("when"), answers=answers, facts=facts):
            continue
        taken.append(step)
        if step.get("kind") in ACTIONS:
            return ScriptPath(steps=taken, outcome=_outcome(step))
    return ScriptPath(steps=taken, outcome=ScriptOutcome(action="message"))


def _outcome(step: dict) -> ScriptOutcome:
    return ScriptOutcome(
        action=step["kind"],
        step_id=step.get("id", ""),
        urgency=step.get("urgency") or Message.Urgency.NORMAL,
        target=step.get("target", ""),
        prompt=step.get("prompt", ""),
    )


def script_paths(steps: list[dict]) -> list[ScriptPath]:
    """Every distinct path through a script, each with the answers and facts that lead there."""
    atoms: dict = {}
    for step in steps:
        _condition_atoms(step.get("when"), atoms)
    names = sorted(atoms, key=str)
    choices = [sorted(atoms[name], key=str) + ([_ELSE] if name[0] == "answer" else []) for name in names]
    total = 1
    for values in choices:
        total *= len(values)
    if total > PATH_LIMIT:
        raise ApplicationError(
            f"this script has {total:,} combinations of answers to check (at most {PATH_LIMIT}): "
            "split it, or test fewer answers",
            field="steps",
        )
    labels = {q["key"]: q.get("label", q["key"]) for step in steps for q in step.get("questions", [])}
    paths: dict[tuple, ScriptPath] = {}
    for combination in itertools.product(*choices):
        # `_ELSE` differs from every value the script tests, the empty answer included.
        answers = {name[1]: value for name, value in zip(names, combination, strict=True) if name[0] == "answer"}
        facts = {name[1]: value for name, value in zip(names, combination, strict=True) if name[0] == "fact"}
        path = script_path(steps, answers=answers, facts=facts)
        signature = (*(step["id"] for step in path.steps), path.outcome.action)
        if signature in paths:
            continue
        described = _describe(steps, path, answers=answers, facts=facts, labels=labels)
        paths[signature] = ScriptPath(steps=path.steps, outcome=path.outcome, description=described)
    return list(paths.values())


def _describe(steps, path, *, answers, facts, labels) -> str:
    """The conditions met or failed on the way, in words: what makes this branch this branch."""
    on_path = {step["id"] for step in path.steps}
    parts = []
    for step in steps:
        if step.get("when"):
            parts.append(condition_text(step["when"], labels=labels, negate=step["id"] not in on_path))
        if path.steps and step["id"] == path.steps[-1]["id"]:
            break
    return "; ".join(dict.fromkeys(parts))


def script_preview(steps: list) -> list[dict]:
    """Every path through a script, as the preview and the portal show it."""
    steps = steps_normalise(steps)
    out = []
    for n, branch in enumerate(script_paths(steps), 1):
        out.append(
            {
                "number": n,
                "description": branch.description,
                "steps": [
                    {
                        **step,
                        "questions": [
                            {**q, "data_category": question_category(q) or ""} for q in step.get("questions", [])
                        ],
                    }
                    for step in branch.steps
                ],
                "outcome": branch.outcome,
            }
        )
    return out


# The desk -----------------------------------------------------------------------------------


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
    steps = steps_normalise(version.steps) if version else DEFAULT_SCRIPT
    questions = [
        question
        for step in steps
        for question in step.get("questions", [])
        if (category := question_category(question)) is None or policy.writes_category(category)
    ]
    return DeskScript(version=version, steps=steps, questions=questions)


def call_facts(*, call: Call | None, line: Line, contact=None, at: dt.datetime | None = None) -> dict[str, bool]:
    """What a script's conditions may test besides the answers: whether the line is in business
    hours now (in the company's zone) and whether the caller is a known contact."""
    local = (at or timezone.now()).astimezone(zoneinfo.ZoneInfo(connection.tenant.time_zone))
    moment = local.time()
    open_now = BusinessHours.objects.filter(
        line=line, weekday=local.weekday(), opens__lte=moment, closes__gt=moment
    ).exists()
    known = contact is not None or (call is not None and call.contact_id is not None)
    return {"business_hours": open_now, "caller_known": known}


@dataclass
class ScriptRun:
    """The answers to a script, checked: the path they lead down, each on-path answer cleaned to
    its type, and the errors by question key (a required answer missing, a bad value). Answers to
    questions off the path are dropped: a branch not taken records nothing."""

    path: ScriptPath
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)

    def raise_first(self) -> None:
        for key, text in self.errors.items():
            raise ApplicationError(text, field=key)


def script_run(
    *, script: DeskScript, values: Mapping[str, str], facts: Mapping[str, bool], region: str | None = None
) -> ScriptRun:
    """Follow the script with the given answers (by question key): the path, the answers on it
    cleaned to their types, and what is wrong with them. Only the questions the agent may write
    count: one the DPA in force withholds is neither asked nor required."""
    writable = {q["key"] for q in script.questions}
    raw = {key: str(values.get(key) or "").strip() for key in writable}
    path = script_path(script.steps, answers=raw, facts=facts)
    cleaned, errors = {}, {}
    for question in path.questions:
        key = question["key"]
        if key not in writable:
            continue
        value = raw.get(key, "")
        if not value:
            if question.get("required"):
                errors[key] = f"'{question['label']}' is required"
            continue
        try:
            cleaned[key] = answer_clean(question, value, region=region)
        except ApplicationError as exc:
            errors[key] = exc.message
    return ScriptRun(path=path, values=cleaned, errors=errors)


def answer_clean(question: dict, value: str, *, region: str | None = None) -> str:
    """An answer in the form its type asks for, or an error naming the question."""
    from crm.blind_index import email_normalise, phone_normalise

    label = question.get("label", question.get("key"))
    kind = question.get("type", "text")
    if kind == "phone":
        if region is None:
            return phone_normalise(value, field=question["key"])
        return phone_normalise(value, region=region, field=question["key"])
    if kind == "email":
        return email_normalise(value, field=question["key"])
    if kind == "choice":
        for choice in question.get("choices", []):
            if value.casefold() == str(choice).casefold():
                return str(choice)
        raise ApplicationError(
            f"'{label}' must be one of: " + ", ".join(str(c) for c in question.get("choices", [])),
            field=question["key"],
        )
    if kind == "date":
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            raise ApplicationError(f"'{label}' must be a date, such as 2026-12-24", field=question["key"]) from None
    return value


# Shape --------------------------------------------------------------------------------------


def _validate_shape(steps) -> None:
    if not isinstance(steps, list) or not steps:
        raise ApplicationError("a script is a non-empty list of steps", field="steps")
    keys: dict[str, dict] = {}
    ids = set()
    for n, step in enumerate(steps, 1):
        if not isinstance(step, dict) or step.get("kind") not in KINDS:
            raise ApplicationError(f"step {n}: kind must be one of {', '.join(KINDS)}", field="steps")
        if step["id"] in ids:
            raise ApplicationError(f"step {n}: the id '{step['id']}' is used twice", field="steps")
        ids.add(step["id"])
        if not str(step.get("prompt", "")).strip() and step["kind"] in ("disclosure", "info"):
            raise ApplicationError(f"step {n}: a {step['kind']} step needs its text as the prompt", field="steps")
        if step.get("questions") and step["kind"] != "ask":
            raise ApplicationError(f"step {n}: only an 'ask' step has questions", field="steps")
        _validate_condition(step.get("when"), n=n, keys=keys)
        if step["kind"] == "message" and step.get("urgency", "normal") not in Message.Urgency.values:
            raise ApplicationError(f"step {n}: urgency must be urgent, normal or low", field="steps")
        if step["kind"] == "transfer":
            _validate_transfer_target(step.get("target", ""), n=n)
        for question in step.get("questions", []):
            _validate_question(question, n=n, keys=keys)
        for question in step.get("questions", []):
            keys[question["key"]] = question


def _validate_question(question, *, n: int, keys: dict) -> None:
    if not isinstance(question, dict):
        raise ApplicationError(f"step {n}: a question is an object with a key, a label and a target", field="steps")
    label = question.get("label") or question.get("key") or "?"
    if not question.get("key") or question["key"] in keys:
        raise ApplicationError(f"step {n}: question '{label}' needs a unique key", field="steps")
    target = question.get("target")
    if target != "message.answer" and target not in TARGETS:
        raise ApplicationError(f"step {n}: question '{label}' has an unknown target '{target}'", field="steps")
    if target == "message.answer" and question.get("category") not in TAXONOMY:
        raise ApplicationError(f"step {n}: question '{label}' must name a data category", field="steps")
    if question.get("type", "text") not in QUESTION_TYPES:
        raise ApplicationError(
            f"step {n}: question '{label}' has type '{question.get('type')}' (one of {', '.join(QUESTION_TYPES)})",
            field="steps",
        )
    if question.get("type") == "choice":
        choices = question.get("choices")
        if not isinstance(choices, list) or not choices or not all(str(c).strip() for c in choices):
            raise ApplicationError(f"step {n}: question '{label}' is a choice and needs its choices", field="steps")
    elif question.get("choices"):
        raise ApplicationError(f"step {n}: only a choice question has choices", field="steps")


def _validate_condition(condition, *, n: int, keys: dict) -> None:
    if condition is None:
        return
    if not isinstance(condition, dict) or len(condition) == 0:
        raise ApplicationError(
            f"step {n}: a condition is an object such as {{'answer': 'reason', 'is': 'x'}}", field="steps"
        )
    for group in ("all", "any"):
        if group in condition:
            if not isinstance(condition[group], list) or not condition[group]:
                raise ApplicationError(f"step {n}: '{group}' takes a non-empty list of conditions", field="steps")
            for inner in condition[group]:
                _validate_condition(inner, n=n, keys=keys)
            return
    if "not" in condition:
        _validate_condition(condition["not"], n=n, keys=keys)
        return
    key = condition.get("answer", condition.get("answered"))
    if key is not None:
        if key not in keys:
            raise ApplicationError(f"step {n}: the condition tests '{key}', which no earlier step asks", field="steps")
        if "answer" in condition:
            if "in" in condition:
                values = condition["in"]
                if not isinstance(values, list) or not values:
                    raise ApplicationError(f"step {n}: 'in' takes a non-empty list of answers", field="steps")
            elif "is" in condition:
                values = [condition["is"]]
            else:
                raise ApplicationError(f"step {n}: a condition on '{key}' needs 'is' or 'in'", field="steps")
            question = keys[key]
            if question.get("type") == "choice":
                allowed = {str(c).casefold() for c in question["choices"]}
                for value in values:
                    if str(value).casefold() not in allowed:
                        raise ApplicationError(
                            f"step {n}: '{value}' is not one of the choices of '{question['label']}'", field="steps"
                        )
        return
    for fact in ("business_hours", "caller_known"):
        if fact in condition:
            if not isinstance(condition[fact], bool):
                raise ApplicationError(f"step {n}: '{fact}' is true or false", field="steps")
            return
    raise ApplicationError(f"step {n}: unknown condition {sorted(condition)}", field="steps")


def _validate_transfer_target(target: str, *, n: int) -> None:
    from crm.blind_index import phone_normalise

    if target == "oncall":
        return
    if not target:
        raise ApplicationError(f"step {n}: a transfer names its target: 'oncall' or a number", field="steps")
    try:
        normalised = phone_normalise(target, field="steps")
    except ApplicationError:
        raise ApplicationError(
            f"step {n}: the transfer target '{target}' is not 'oncall' or a number in E.164 (+372…)", field="steps"
        ) from None
    if normalised != target:
        raise ApplicationError(f"step {n}: write the transfer target in E.164, as {normalised}", field="steps")


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
