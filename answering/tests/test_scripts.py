"""Branching scripts (answering/scripts.py): conditions, required typed answers and actions, the
publication check of every branch against the DPA and the recording disclosure, and the desk and
`message_take` enforcing the same rules. Written from the side of what must not happen: a branch
asking for what the DPA withholds, a required answer skipped, an empty message sent."""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import Call, Disposition, Line, Message, Script, ScriptVersion
from answering.scripts import (
    script_path,
    script_paths,
    script_version_draft,
    script_version_publish,
    script_version_update,
    steps_normalise,
)
from answering.services.calls import call_answer
from answering.services.messages import message_take
from tenants.errors import ApplicationError
from tenants.models import User

pytestmark = pytest.mark.django_db

DISCLOSURE = {"id": "disclose", "kind": "disclosure", "prompt": "This call may be recorded."}
REASON = {
    "id": "reason",
    "kind": "ask",
    "prompt": "Is this an emergency?",
    "questions": [
        {
            "key": "reason",
            "label": "Reason",
            "target": "message.answer",
            "category": "user.content.private",
            "type": "choice",
            "choices": ["Emergency", "Appointment", "Other"],
            "required": True,
        }
    ],
}
NAME = {
    "id": "name",
    "kind": "ask",
    "prompt": "Your name?",
    "questions": [
        {"key": "name", "label": "Caller's name", "target": "message.caller_name", "type": "text", "required": True}
    ],
}
CALL_BACK = {
    "id": "call_back",
    "kind": "ask",
    "prompt": "Which number can the dentist call you on?",
    "when": {"answer": "reason", "is": "Emergency"},
    "questions": [
        {
            "key": "call_back",
            "label": "Call-back number",
            "target": "message.caller_number",
            "type": "phone",
            "required": True,
        }
    ],
}
TRANSFER = {
    "id": "transfer",
    "kind": "transfer",
    "prompt": "Put the caller through to the dentist on call.",
    "target": "oncall",
    "when": {"answer": "reason", "is": "Emergency"},
}
BOOK = {"id": "book", "kind": "book", "prompt": "Find a slot.", "when": {"answer": "reason", "is": "Appointment"}}
BODY = {
    "id": "body",
    "kind": "ask",
    "prompt": "What is it about?",
    "questions": [{"key": "body", "label": "Message", "target": "message.body", "type": "text", "required": True}],
}
TAKE = {"id": "take", "kind": "message", "urgency": "normal"}
BRANCHING = [REASON, NAME, CALL_BACK, TRANSFER, BOOK, BODY, TAKE]


@pytest.fixture
def supervisor(db):
    return User.objects.get(username="supervisor")


def _publish(line: Line, steps: list, supervisor) -> ScriptVersion:
    script = Script.objects.create(line=line, name="Branching intake")
    return script_version_publish(
        version=script_version_draft(script=script, steps=steps, actor=supervisor), actor=supervisor
    )


def _call(line: Line, **fields) -> Call:
    return Call.objects.create(
        line=line, telephony_sid=f"CAscript{line.pk:04d}".ljust(34, "0"), started_at=timezone.now(), **fields
    )


# Shape, paths and publication --------------------------------------------------------------


def test_every_path_is_listed_with_the_answers_that_lead_there(acme):
    with tenant_context(acme):
        paths = {p.outcome.action: p for p in script_paths(steps_normalise(BRANCHING))}
    assert set(paths) == {"transfer", "book", "message"}
    assert [s["id"] for s in paths["transfer"].steps] == ["reason", "name", "call_back", "transfer"]
    assert paths["transfer"].outcome.target == "oncall"
    assert "Reason is 'Emergency'" in paths["transfer"].description
    assert [s["id"] for s in paths["message"].steps] == ["reason", "name", "body", "take"]
    assert "Reason is not 'Appointment'" in paths["message"].description


def test_a_branch_asking_for_an_ungranted_category_is_refused_and_named(globex, acme, supervisor):
    # globex's DPA does not let agents record phone numbers: only the emergency branch asks one.
    with tenant_context(globex):
        line = Line.objects.get(phone_number="+3726002001")
        with pytest.raises(ApplicationError) as refused:
            _publish(line, BRANCHING, supervisor)
        assert "'Call-back number'" in refused.value.message
        assert "Reason is 'Emergency'" in refused.value.message
        assert "user.contact.phone_number" in refused.value.message
        assert not ScriptVersion.objects.filter(published_at__isnull=False, script__line=line).exists()
        # The same script without that branch publishes.
        _publish(line, [s for s in BRANCHING if s["id"] != "call_back"], supervisor)
    # A branch that is only taken outside business hours is checked as well.
    pain = {
        "id": "pain",
        "kind": "ask",
        "prompt": "Are you in pain?",
        "when": {"business_hours": False},
        "questions": [{"key": "pain", "label": "Pain", "target": "message.answer", "category": "user.health"}],
    }
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001001")
        with pytest.raises(ApplicationError, match=r"'Pain' on the branch where outside business hours.*user\.health"):
            _publish(line, [NAME, pain, BODY], supervisor)


def test_every_branch_of_a_recording_line_opens_with_the_disclosure(acme, supervisor):
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001001")
        Line.objects.filter(pk=line.pk).update(recording_policy="announce")
        line.refresh_from_db()
        only_for_known = {**DISCLOSURE, "when": {"caller_known": True}}
        with pytest.raises(ApplicationError, match="the caller is not known"):
            _publish(line, [only_for_known, *BRANCHING], supervisor)
        assert _publish(line, [DISCLOSURE, *BRANCHING], supervisor).published_at is not None


@pytest.mark.parametrize(
    ("steps", "why"),
    [
        ([{**CALL_BACK, "id": "early"}, *BRANCHING], "no earlier step asks"),
        ([REASON, {**BOOK, "when": {"answer": "reason", "is": "Holiday"}}], "not one of the choices"),
        ([REASON, {**TRANSFER, "target": "5123 4501"}], "E.164"),
        ([REASON, {**TRANSFER, "target": ""}], "names its target"),
        ([{**REASON, "questions": [{**REASON["questions"][0], "choices": []}]}], "needs its choices"),
        ([{**NAME, "questions": [{**NAME["questions"][0], "type": "colour"}]}], "has type 'colour'"),
        ([{**TAKE, "urgency": "whenever"}], "urgency"),
        ([NAME, {**NAME, "questions": []}], "used twice"),
        ([REASON, {**BOOK, "when": {"weather": "rain"}}], "unknown condition"),
    ],
)
def test_a_malformed_branch_is_refused_with_the_step_named(acme, steps, why):
    with tenant_context(acme):
        script = Script.objects.create(line=Line.objects.get(phone_number="+3726001001"), name="Bad")
        with pytest.raises(ApplicationError, match=why) as refused:
            script_version_draft(script=script, steps=steps, actor=None)
        assert refused.value.message.startswith("step ")


def test_a_draft_changes_and_a_published_version_does_not(acme, supervisor):
    with tenant_context(acme):
        script = Script.objects.create(line=Line.objects.get(phone_number="+3726001001"), name="Intake")
        draft = script_version_draft(script=script, steps=[NAME, BODY], actor=supervisor)
        script_version_update(version=draft, steps=BRANCHING, actor=supervisor)
        assert [s["id"] for s in ScriptVersion.objects.get(pk=draft.pk).steps] == [s["id"] for s in BRANCHING]
        script_version_publish(version=draft, actor=supervisor)
        with pytest.raises(ApplicationError, match="new draft"):
            script_version_update(version=draft, steps=[NAME, BODY], actor=supervisor)


def test_a_linear_script_reads_as_before(acme):
    old = [
        {
            "kind": "ask",
            "prompt": "Name?",
            "questions": [{"key": "n", "label": "Name", "target": "message.caller_name"}],
        },
        {"kind": "ask", "prompt": "What?", "questions": [{"key": "b", "label": "Message", "target": "message.body"}]},
    ]
    steps = steps_normalise(old)
    assert [s["id"] for s in steps] == ["s1", "s2"]
    assert steps[0]["questions"][0] == {
        "key": "n",
        "label": "Name",
        "target": "message.caller_name",
        "type": "text",
        "required": False,
    }
    path = script_path(steps, answers={}, facts={})
    assert (len(path.steps), path.outcome.action) == (2, "message")


# The desk ----------------------------------------------------------------------------------


def test_the_desk_follows_the_emergency_branch_and_hands_the_transfer_its_target(admin_for, agent1, acme, supervisor):
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001002")
        _publish(line, BRANCHING, supervisor)
        call = _call(line)
    client = admin_for(agent1, "acme")
    url = f"/admin/answering/call/{call.pk}/answer/"
    page = client.get(url).content.decode()
    # Before any answer the emergency steps are hidden, with their condition shown to the agent.
    assert 'data-step="call_back" data-kind="ask"' in page
    assert "If Reason is &#x27;Emergency&#x27;:" in page
    assert 'data-action="transfer" data-target="oncall"' in page
    # On the emergency branch the call-back number is required, and the message is not.
    missing = client.post(url, {"reason": "Emergency", "name": "Mari Tamm", "wrap_up": "transferred"})
    assert missing.status_code == 200
    assert "&#x27;Call-back number&#x27; is required" in missing.content.decode()
    saved = client.post(
        url,
        {
            "reason": "Emergency",
            "name": "Mari Tamm",
            "call_back": "5123 4501",  # a local number, parsed as Estonian for acme
            "body": "typed on another branch",
            "wrap_up": "transferred",
            "urgency": "urgent",
        },
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    with tenant_context(acme):
        closed = Call.objects.get(pk=call.pk)
        assert closed.disposition == Disposition.TRANSFERRED
        message = Message.objects.get(call=call)
        assert (message.caller_name, message.caller_number) == ("Mari Tamm", "+37251234501")
        assert message.body == ""  # the branch not taken records nothing
        assert '"Emergency"' in message.answers


def test_the_default_branch_requires_the_message(admin_for, agent1, acme, supervisor):
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001002")
        _publish(line, BRANCHING, supervisor)
        call = _call(line)
    client = admin_for(agent1, "acme")
    url = f"/admin/answering/call/{call.pk}/answer/"
    refused = client.post(url, {"reason": "Other", "name": "Jaan", "call_back": "not a number"})
    page = refused.content.decode()
    assert "&#x27;Message&#x27; is required" in page
    assert "Choose how the call ended" in page  # the wrap-up is required
    assert "not a phone number" not in page  # the emergency branch's answer is not checked off it
    assert "&#x27;Reason&#x27; must be one of" in client.post(url, {"reason": "Bored"}).content.decode()
    with tenant_context(acme):
        assert Call.objects.get(pk=call.pk).disposition == ""
        assert not Message.objects.filter(call=call).exists()


def test_an_empty_message_is_refused_on_the_desk_and_sends_nothing(admin_for, agent1, acme):
    with tenant_context(acme):
        call = _call(Line.objects.get(phone_number="+3726001001"))
    client = admin_for(agent1, "acme")
    sent = len(mail.outbox)
    response = client.post(
        f"/admin/answering/call/{call.pk}/answer/",
        {"caller_name": "Jaan", "body": "   ", "wrap_up": "message_taken", "urgency": "normal"},
    )
    assert response.status_code == 200
    assert "the message is empty" in response.content.decode()
    with tenant_context(acme):
        assert not Message.objects.filter(call=call).exists()
        assert Call.objects.get(pk=call.pk).disposition == ""
    assert len(mail.outbox) == sent


def test_message_take_refuses_an_empty_message_and_a_missing_required_answer(acme, agent1, supervisor):
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001002")
        for empty in ({}, {"body": "  \n"}, {"caller_name": "Jaan", "caller_number": "+37251234501"}):
            with pytest.raises(ApplicationError, match="the message is empty") as refused:
                message_take(line=line, actor=agent1, **empty)
            assert refused.value.field == "body"
        _publish(line, BRANCHING, supervisor)
        with pytest.raises(ApplicationError, match="'Reason' is required") as refused:
            message_take(line=line, actor=agent1, caller_name="Jaan", body="Call me")
        assert refused.value.field == "reason"
        emergency = {"reason": {"label": "Reason", "category": "user.content.private", "value": "Emergency"}}
        with pytest.raises(ApplicationError, match="'Call-back number' is required"):
            message_take(line=line, actor=agent1, caller_name="Jaan", answers=emergency)
        message = message_take(
            line=line, actor=agent1, caller_name="Jaan", caller_number="5123 4501", answers=emergency
        )
        assert message.caller_number == "+37251234501"
        assert list(Message.objects.filter(line=line).values_list("caller_name", flat=True)) == ["Jaan"]


def test_a_known_caller_is_filled_in_where_the_agent_may_read_them(admin_for, agent1, acme, globex):
    from crm.models import Contact

    with tenant_context(acme):
        contact = Contact.objects.create(name="Mari Tamm", phone_number="+37251234501")
        call = _call(Line.objects.get(phone_number="+3726001001"), caller_number="+37251234501", contact=contact)
    page = admin_for(agent1, "acme").get(f"/admin/answering/call/{call.pk}/answer/").content.decode()
    assert 'name="caller_name" value="Mari Tamm"' in page
    with tenant_context(globex):
        contact = Contact.objects.create(name="Olga Org", phone_number="+37251234502")
        line = Line.objects.get(phone_number="+3726002001")
        call = _call(line, caller_number="+37251234502", contact=contact)
    page = admin_for(agent1, "globex").get(f"/admin/answering/call/{call.pk}/answer/").content.decode()
    assert 'value="Olga Org"' in page
    assert "+37251234502" not in page  # globex withholds numbers: not shown, not pre-filled, not in the facts


def test_a_question_the_dpa_withholds_since_publication_is_neither_asked_nor_stored(admin_for, agent1, acme):
    # Published before the DPA changed (written directly: publication would refuse it now).
    pain = {"key": "pain", "label": "Pain", "target": "message.answer", "category": "user.health", "required": True}
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001001")
        script = Script.objects.create(line=line, name="Old intake")
        ScriptVersion.objects.create(
            script=script,
            number=1,
            steps=steps_normalise([{"kind": "ask", "prompt": "Pain?", "questions": [pain]}, BODY]),
            published_at=timezone.now(),
        )
        call = _call(line)
    client = admin_for(agent1, "acme")
    url = f"/admin/answering/call/{call.pk}/answer/"
    page = client.get(url).content.decode()
    assert 'name="pain"' not in page
    assert "Pain: not asked, restricted by DPA" in page
    saved = client.post(url, {"pain": "severe", "body": "Toothache", "wrap_up": "message_taken", "urgency": "normal"})
    assert saved.status_code == 302  # required, but not of this agent: the DPA withholds it
    with tenant_context(acme):
        message = Message.objects.get(call=call)
        assert "severe" not in message.answers
        assert message.body == "Toothache"


def test_the_wrap_up_is_required_and_a_booking_keeps_its_answers(acme, agent1, supervisor):
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001002")
        _publish(line, BRANCHING, supervisor)
        call = _call(line)
        values = {"reason": "Appointment", "name": "Mari Tamm"}
        with pytest.raises(ApplicationError, match="choose how the call ended"):
            call_answer(call=call, actor=agent1, values=values, disposition="")
        message = call_answer(call=call, actor=agent1, values=values, disposition=Disposition.APPOINTMENT)
        assert message.caller_name == "Mari Tamm"
        assert Call.objects.get(pk=call.pk).disposition == Disposition.APPOINTMENT


# The supervisor's script page and the portal's ----------------------------------------------


def test_a_supervisor_drafts_previews_every_path_and_publishes(admin_for, supervisor, globex):
    import json

    with tenant_context(globex):
        line = Line.objects.get(phone_number="+3726002001")
        script = Script.objects.create(line=line, name="Reception")
    client = admin_for(supervisor, "globex")
    created = client.post(f"/admin/answering/script/{script.pk}/draft/")
    assert created.status_code == 302
    with tenant_context(globex):
        draft = ScriptVersion.objects.get(script=script)
    edit = f"/admin/answering/scriptversion/{draft.pk}/edit/"
    assert created["Location"] == edit
    broken = client.post(edit, {"steps": "[{"})
    assert broken.status_code == 200
    assert "not valid JSON" in broken.content.decode()
    bad_branch = client.post(edit, {"steps": json.dumps([REASON, {**BOOK, "when": {"answer": "reason", "is": "Tea"}}])})
    assert "not one of the choices" in bad_branch.content.decode()
    assert client.post(edit, {"steps": json.dumps(BRANCHING)}).status_code == 302
    page = client.get(edit).content.decode()
    for number in (1, 2, 3):
        assert f'data-path="{number}"' in page
    assert 'data-path="4"' not in page
    assert "when Reason is &#x27;Emergency&#x27;" in page
    assert "Warm transfer to" in page
    # globex withholds phone numbers: publishing names the branch that asks for one, and keeps it a draft.
    refused = client.post(edit, {"publish": "1"}, follow=True).content.decode()
    assert "on the branch where Reason is &#x27;Emergency&#x27;" in refused
    with tenant_context(globex):
        assert ScriptVersion.objects.get(pk=draft.pk).published_at is None
    without = [s for s in BRANCHING if s["id"] != "call_back"]
    assert client.post(edit, {"steps": json.dumps(without)}).status_code == 302
    client.post(edit, {"publish": "1"})
    with tenant_context(globex):
        assert ScriptVersion.objects.get(pk=draft.pk).published_at is not None
    # Published, it is read-only; a change is a new draft.
    assert "A published version never changes" in client.get(edit).content.decode()
    client.post(edit, {"steps": json.dumps(BRANCHING)})
    with tenant_context(globex):
        assert [s["id"] for s in ScriptVersion.objects.get(pk=draft.pk).steps] == [s["id"] for s in without]


def test_agents_cannot_edit_scripts(admin_for, agent1, acme, supervisor):
    with tenant_context(acme):
        version = _publish(Line.objects.get(phone_number="+3726001001"), BRANCHING, supervisor)
    client = admin_for(agent1, "acme")
    assert client.get(f"/admin/answering/scriptversion/{version.pk}/edit/").status_code == 404
    assert client.post(f"/admin/answering/script/{version.script_id}/draft/").status_code == 404


def test_the_client_reads_the_published_script_in_the_portal(client_for, acme_admin, globex_admin, acme, supervisor):
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001002")
        _publish(line, BRANCHING, supervisor)
        draft_only = Script.objects.create(line=Line.objects.get(phone_number="+3726001001"), name="Unpublished")
        script_version_draft(script=draft_only, steps=[{**NAME, "prompt": "DRAFT ONLY QUESTION"}], actor=supervisor)
    page = client_for("acme.localhost", acme_admin).get("/scripts/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "when Reason is &#x27;Emergency&#x27;" in body
    assert "Which number can the dentist call you on?" in body
    assert "<code>user.contact.phone_number</code>" in body
    assert "DRAFT ONLY QUESTION" not in body  # a draft is the provider's, until published
    # Another company's admin gets nothing of acme's scripts.
    other = client_for("acme.localhost", globex_admin).get("/scripts/")
    assert other.status_code in (302, 403, 404)
    assert "Which number can the dentist call you on?" not in other.content.decode()


def test_the_demos_emergency_script_publishes_and_transfers_an_emergency_to_the_person_on_call(acme, supervisor):
    from demo.answering import EMERGENCY_SCRIPT

    with tenant_context(acme):
        version = _publish(Line.objects.get(phone_number="+3726001002"), EMERGENCY_SCRIPT, supervisor)
        outcomes = {p.outcome.action: p for p in script_paths(version.steps)}
    assert outcomes["transfer"].outcome.target == "oncall"
    assert "Reason is 'Emergency'" in outcomes["transfer"].description
    assert outcomes["message"].questions[-1]["target"] == "message.body"
