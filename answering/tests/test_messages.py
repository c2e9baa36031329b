"""Messages (answering/services/messages.py): taking one under the DPA, in the change log with the
agent and delivered only on commit; its delivery states moving forward only; acknowledging it."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import Call, Disposition, Line, Message
from answering.services.escalation import TIMER_ESCALATE
from answering.services.messages import BODY_LIMIT, message_acknowledge, message_mark, message_take
from operations.timers.models import Timer
from tenants.errors import ApplicationError
from tests.outbox import outbox_args

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme_line(acme):
    with tenant_context(acme):
        return Line.objects.get(phone_number="+3726001002")


@pytest.fixture
def queued(woken) -> list[str]:
    """The schemas woken to relay their outbox on commit."""
    return woken


def _deliveries() -> list[int]:
    return [args[0] for args in outbox_args("answering.deliver_message")]


def test_an_over_long_message_is_refused_before_anything_is_stored(acme, agent1):
    with tenant_context(acme):
        before = Message.objects.count()
        with pytest.raises(ApplicationError, match="5,000") as refused:
            message_take(line=Line.objects.get(phone_number="+3726001001"), actor=agent1, body="x" * (BODY_LIMIT + 1))
        assert refused.value.field == "body"
        assert Message.objects.count() == before


def test_a_taken_message_is_logged_with_the_agent_and_delivered_only_on_commit(
    acme, acme_line, agent1, queued, django_capture_on_commit_callbacks
):
    with tenant_context(acme):
        with django_capture_on_commit_callbacks() as callbacks:
            message = message_take(line=acme_line, actor=agent1, urgency="urgent", body="Bleeding gum")
        assert queued == []
        assert _deliveries() == [message.pk]  # a row in the message's own transaction
        entry = LogEntry.objects.get_for_object(message).get()
        assert (entry.action, entry.actor) == (LogEntry.Action.CREATE, agent1)
        # Urgent: the wait for an acknowledgement starts with the message, in its transaction.
        timer = Timer.objects.get(kind=TIMER_ESCALATE, target_id=str(message.pk), fired_at=None, cancelled_at=None)
        assert timer.due_at > timezone.now()
    for callback in callbacks:
        callback()
    assert queued == ["acme"]  # the relay is woken once it has committed


def test_a_message_the_dpa_does_not_allow_enqueues_nothing(globex, agent1, queued, django_capture_on_commit_callbacks):
    with tenant_context(globex):
        line = Line.objects.get(phone_number="+3726002001")
        before = Message.objects.count()
        with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ApplicationError) as refused:
            message_take(line=line, actor=agent1, caller_number="+37251234599", body="Call me")
        assert refused.value.field == "caller_number"
        assert Message.objects.count() == before
        assert _deliveries() == []
    assert callbacks == []


def test_a_message_for_an_answered_call_is_refused(acme, acme_line, agent1, queued):
    with tenant_context(acme):
        call = Call.objects.create(
            line=acme_line,
            telephony_sid="CAanswered" + "0" * 24,
            started_at=timezone.now(),
            disposition=Disposition.INFO_GIVEN,
        )
        with pytest.raises(ApplicationError, match="already been answered") as refused:
            message_take(line=acme_line, actor=agent1, call=call, body="Late message")
        assert refused.value.field == "call"
        assert not Message.objects.filter(call=call).exists()


def test_marking_moves_forward_only_and_each_move_is_logged(acme, acme_line, acme_admin):
    with tenant_context(acme):
        message = Message.objects.create(line=acme_line, body="Call back", status=Message.Status.SENT)
        assert message_mark(message=message, status=Message.Status.READ, actor=acme_admin).status == "read"
        assert message_mark(message=message, status=Message.Status.DELIVERED, actor=None).status == "read"
        entries = LogEntry.objects.get_for_object(message).filter(action=LogEntry.Action.UPDATE)
        assert [(e.actor, e.changes_dict["status"]) for e in entries] == [(acme_admin, ["sent", "read"])]
        with pytest.raises(ApplicationError) as refused:
            message_mark(message=message, status=Message.Status.FAILED, actor=None)
        assert refused.value.field == "status"


def test_acknowledging_stops_the_escalation_once_and_names_the_client(acme, acme_line, agent1, acme_admin, queued):
    with tenant_context(acme):
        message = message_take(line=acme_line, actor=agent1, urgency="urgent", body="Bleeding gum")
        acknowledged = message_acknowledge(message=message, actor=acme_admin)
        assert (acknowledged.status, acknowledged.acknowledged_by) == (Message.Status.ACKNOWLEDGED, acme_admin)
        again = message_acknowledge(message=message, actor=agent1)
        assert again.acknowledged_by == acme_admin  # the first acknowledgement stands
        assert Timer.objects.get(kind=TIMER_ESCALATE, target_id=str(message.pk)).cancelled_at is not None
        entry = LogEntry.objects.get_for_object(message).get(action=LogEntry.Action.UPDATE)
        assert entry.actor == acme_admin
        assert entry.changes_dict["status"] == ["pending", "acknowledged"]
