"""Answering a call (answering/services/calls.py): one transaction for the message, the contact and
the call's disposition, in the change log with the agent, delivery started only on commit, and a
call answered once only."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import Call, Disposition, Line, Message, Script
from answering.scripts import script_version_draft, script_version_publish
from answering.services.calls import call_answer, call_dispose
from crm.models import Contact
from tenants.errors import ApplicationError
from tenants.models import User
from tests.outbox import outbox_args

pytestmark = pytest.mark.django_db

NAME = {"key": "name", "label": "Caller's name", "target": "message.caller_name"}
EMAIL = {"key": "email", "label": "E-mail", "target": "contact.email"}
BODY = {"key": "body", "label": "Message", "target": "message.body"}
TAKEN = Disposition.MESSAGE_TAKEN


@pytest.fixture
def acme_call(acme):
    """An incoming call on acme's emergency line, from a known caller, its script asking for the
    caller's name, their e-mail (a contact field) and the message."""
    supervisor = User.objects.get(username="supervisor")
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001002")
        script = Script.objects.create(line=line, name="Intake")
        draft = script_version_draft(
            script=script,
            steps=[{"kind": "ask", "prompt": "Who and what?", "questions": [NAME, EMAIL, BODY]}],
            actor=None,
        )
        version = script_version_publish(version=draft, actor=supervisor)
        contact = Contact.objects.create(name="Kati Karu", phone_number="+37251234577")
        call = Call.objects.create(
            line=line,
            telephony_sid="CAcalls" + "0" * 27,
            started_at=timezone.now(),
            caller_number="+37251234577",
            contact=contact,
        )
        call = Call.objects.select_related("line", "contact").get(pk=call.pk)
    return call, version


def _deliveries() -> list[int]:
    """The messages whose delivery is an outbox row (in the current schema)."""
    return [args[0] for args in outbox_args("answering.deliver_message")]


def test_answering_a_call_takes_the_message_closes_the_call_and_logs_the_agent(acme, acme_call, agent1, monkeypatch):
    call, version = acme_call
    with tenant_context(acme):
        message = call_answer(
            call=call,
            actor=agent1,
            values={"name": "Kati Karu", "email": "kati@example.ee", "body": "Crown fell out"},
            disposition=Disposition.MESSAGE_TAKEN,
            urgency=Message.Urgency.URGENT,
        )
        assert (message.caller_name, message.body, message.taken_by) == ("Kati Karu", "Crown fell out", agent1)
        assert Contact.objects.get(pk=call.contact.pk).email == "kati@example.ee"
        closed = Call.objects.get(pk=call.pk)
        assert (closed.disposition, closed.agent, closed.script_version) == (Disposition.MESSAGE_TAKEN, agent1, version)
        entry = LogEntry.objects.get_for_object(closed).get(action=LogEntry.Action.UPDATE)
        assert entry.actor == agent1
        # The call keeps the caller's name as the desk showed it, for the portal and the API.
        assert set(entry.changes_dict) == {"disposition", "agent", "script_version", "caller_name"}
        assert entry.changes_dict["disposition"] == ["", Disposition.MESSAGE_TAKEN]
        created = LogEntry.objects.get_for_object(message).get(action=LogEntry.Action.CREATE)
        assert created.actor == agent1
        assert created.changes_dict["body"][1] != "Crown fell out"  # personal fields are masked in the log
        contact_entry = LogEntry.objects.get_for_object(call.contact).get(action=LogEntry.Action.UPDATE)
        assert contact_entry.actor == agent1


def test_delivery_is_an_outbox_row_of_the_answer_and_relayed_only_when_it_commits(
    acme, acme_call, agent1, woken, django_capture_on_commit_callbacks
):
    call, _ = acme_call
    with tenant_context(acme):
        with django_capture_on_commit_callbacks() as callbacks:
            message = call_answer(
                call=call, actor=agent1, values={"name": "Kati Karu", "body": "Crown fell out"}, disposition=TAKEN
            )
            assert _deliveries() == [message.pk]  # written in the answer's own transaction
        assert woken == []  # nothing is relayed while the transaction is open
        for callback in callbacks:
            callback()
    assert woken == ["acme"]


def test_a_failing_step_rolls_back_the_whole_answer(acme, acme_call, agent1, woken, django_capture_on_commit_callbacks):
    call, _ = acme_call
    with tenant_context(acme):
        before = LogEntry.objects.count()
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(ApplicationError) as refused,
        ):
            call_answer(
                call=call,
                actor=agent1,
                values={"name": "Kati Karu", "email": "not an address", "body": "Crown fell out"},
                disposition=TAKEN,
            )
        assert refused.value.field == "email"
        assert not Message.objects.filter(call=call).exists()
        assert Call.objects.get(pk=call.pk).disposition == ""
        assert LogEntry.objects.count() == before  # the change log rolled back with the change
        assert _deliveries() == []  # and the delivery with it
    assert callbacks == []
    assert woken == []


def test_a_call_already_answered_takes_no_further_message(acme, acme_call, agent1):
    call, _ = acme_call
    with tenant_context(acme):
        call_answer(call=call, actor=agent1, values={"body": "First"}, disposition=TAKEN)
        with pytest.raises(ApplicationError, match="already been answered") as refused:
            call_answer(call=call, actor=agent1, values={"body": "Second"}, disposition=TAKEN)
        assert refused.value.field == "call"
        with pytest.raises(ApplicationError, match="already been answered"):
            call_dispose(call=call, disposition=Disposition.HUNG_UP, actor=agent1)
        assert list(Message.objects.filter(call=call).values_list("body", flat=True)) == ["First"]
        assert Call.objects.get(pk=call.pk).disposition == Disposition.MESSAGE_TAKEN


def test_a_quick_disposition_is_logged_with_the_agent(acme, acme_call, agent1):
    call, version = acme_call
    with tenant_context(acme):
        closed = call_dispose(call=call, disposition=Disposition.WRONG_NUMBER, actor=agent1)
        assert (closed.disposition, closed.agent, closed.script_version) == (Disposition.WRONG_NUMBER, agent1, version)
        entry = LogEntry.objects.get_for_object(closed).get(action=LogEntry.Action.UPDATE)
        assert entry.actor == agent1
        assert entry.changes_dict["disposition"] == ["", Disposition.WRONG_NUMBER]
        assert not Message.objects.filter(call=call).exists()


def test_only_dispositions_without_a_message_close_a_call_that_way(acme, acme_call, agent1):
    call, _ = acme_call
    with tenant_context(acme):
        for disposition in (Disposition.MESSAGE_TAKEN, "teleported"):
            with pytest.raises(ApplicationError) as refused:
                call_dispose(call=call, disposition=disposition, actor=agent1)
            assert refused.value.field == "disposition"
        assert Call.objects.get(pk=call.pk).disposition == ""


def test_only_the_companys_agents_answer_its_calls(acme, globex, acme_admin, agent2):
    with tenant_context(globex):
        call = Call.objects.create(
            line=Line.objects.get(phone_number="+3726002001"),
            telephony_sid="CAother" + "0" * 27,
            started_at=timezone.now(),
        )
        # agent2 is not assigned to globex; acme's admin is a client user, and of another company.
        for outsider in (agent2, acme_admin):
            with pytest.raises(ApplicationError, match="agents and supervisors"):
                call_answer(call=call, actor=outsider, values={"body": "Hello"}, disposition=TAKEN)
            with pytest.raises(ApplicationError, match="agents and supervisors"):
                call_dispose(call=call, disposition=Disposition.HUNG_UP, actor=outsider)
        assert not Message.objects.filter(call=call).exists()
        assert Call.objects.get(pk=call.pk).disposition == ""


def test_the_portal_names_the_caller_the_desk_showed(acme, acme_call, agent1, acme_admin, client_for, admin_for):
    """The desk says "Known caller: Kati Karu"; after a wrap-up without a message the portal's
    call list and the call's page name her too, not "Unknown caller"."""
    call, _ = acme_call
    desk = admin_for(agent1, "acme").get(f"/admin/answering/call/{call.pk}/answer/").content.decode()
    assert "Kati Karu" in desk
    with tenant_context(acme):
        call_dispose(call=call, disposition=Disposition.INFO_GIVEN, actor=agent1)
    portal = client_for("acme.localhost", acme_admin)
    for page in (portal.get("/calls/"), portal.get(f"/calls/{call.pk}/")):
        body = page.content.decode()
        assert "Kati Karu" in body
    assert "Unknown caller" not in portal.get(f"/calls/{call.pk}/").content.decode()
