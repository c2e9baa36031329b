"""Escalation (answering/services/escalation.py): an unacknowledged urgent message goes along the
on-call rota one person at a time, the notice sent on commit and only once, with no caller data."""

from __future__ import annotations

import datetime as dt

import pytest
from auditlog.models import LogEntry
from django.core import mail
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import DeliveryAttempt, Line, Message
from answering.services.escalation import TIMER_ESCALATE, escalation_send, message_escalate
from operations.timers.models import Timer
from operations.timers.services import timer_schedule, timers_fire_due
from scheduling.models import OnCallShift, StaffMember
from tests.outbox import outbox_args

pytestmark = pytest.mark.django_db


@pytest.fixture
def rota(acme):
    """Two people on call for acme's reception line now, reachable by e-mail."""
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001001")
        now = timezone.now()
        people = []
        for position, (name, email) in enumerate(
            [("Dr Mets", "mets@acme.example"), ("Dr Saar", "saar@acme.example")], 1
        ):
            person = StaffMember.objects.create(name=name, email=email)
            OnCallShift.objects.create(
                line=line,
                staff=person,
                starts_at=now - dt.timedelta(hours=1),
                ends_at=now + dt.timedelta(hours=8),
                position=position,
            )
            people.append(person)
        message = Message.objects.create(
            line=line, urgency=Message.Urgency.URGENT, caller_name="Kati Karu", body="Swollen jaw"
        )
    return message, people


@pytest.fixture
def notices(woken):
    """The notices to send: outbox rows (message, person, level), in the current schema."""
    return lambda: [tuple(args) for args in outbox_args("answering.send_escalation")]


def _pending_timers(message: Message) -> int:
    return Timer.objects.filter(
        kind=TIMER_ESCALATE, target_id=str(message.pk), fired_at=None, cancelled_at=None
    ).count()


def test_escalation_tells_the_next_person_on_commit_and_is_logged(
    acme, rota, notices, woken, django_capture_on_commit_callbacks
):
    message, (first, second) = rota
    with tenant_context(acme):
        with django_capture_on_commit_callbacks() as callbacks:
            assert message_escalate(message_id=message.pk) == 1
        assert notices() == [(message.pk, first.pk, 1)]  # a row in the level's own transaction
        assert woken == []  # nobody is told before the level is committed
        for callback in callbacks:
            callback()
        assert woken == ["acme"]
        assert Message.objects.get(pk=message.pk).escalation_level == 1
        assert _pending_timers(message) == 1  # the second person is next, after the line's deadline
        entry = LogEntry.objects.get_for_object(message).get(action=LogEntry.Action.UPDATE)
        assert entry.changes_dict["escalation_level"] == ["0", "1"]

        with django_capture_on_commit_callbacks(execute=True):
            assert message_escalate(message_id=message.pk) == 2
        assert notices()[-1] == (message.pk, second.pk, 2)
        # Everyone on call has been told: nothing further, and the level stays.
        assert message_escalate(message_id=message.pk) is None
        assert Message.objects.get(pk=message.pk).escalation_level == 2


def test_an_acknowledged_message_does_not_escalate(acme, rota, notices, django_capture_on_commit_callbacks):
    message, _ = rota
    with tenant_context(acme):
        Message.objects.filter(pk=message.pk).update(status=Message.Status.ACKNOWLEDGED)
        with django_capture_on_commit_callbacks(execute=True):
            assert message_escalate(message_id=message.pk) is None
        assert Message.objects.get(pk=message.pk).escalation_level == 0
        assert notices() == []


def test_the_due_timer_escalates(acme, rota, notices, django_capture_on_commit_callbacks):
    message, (first, _) = rota
    with tenant_context(acme):
        timer_schedule(kind=TIMER_ESCALATE, target_id=message.pk, due_at=timezone.now() - dt.timedelta(minutes=1))
        with django_capture_on_commit_callbacks(execute=True):
            assert timers_fire_due() == 1
        assert Message.objects.get(pk=message.pk).escalation_level == 1
        assert notices() == [(message.pk, first.pk, 1)]


def test_the_notice_is_sent_once_and_carries_no_caller_data(acme, rota):
    message, (first, _) = rota
    with tenant_context(acme):
        assert escalation_send(message_id=message.pk, staff_id=first.pk, level=1) == DeliveryAttempt.Status.SENT
        assert escalation_send(message_id=message.pk, staff_id=first.pk, level=1) == "already sent"  # redelivered
        attempt = DeliveryAttempt.objects.get(message=message, escalation_level=1)
        assert (attempt.channel, attempt.status) == (DeliveryAttempt.Channel.EMAIL, DeliveryAttempt.Status.SENT)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["mets@acme.example"]
    assert f"Urgent message #{message.pk}" in mail.outbox[0].body
    assert "Kati Karu" not in mail.outbox[0].body
    assert "Swollen jaw" not in mail.outbox[0].body


def test_no_notice_for_an_acknowledged_message(acme, rota):
    message, (first, _) = rota
    with tenant_context(acme):
        Message.objects.filter(pk=message.pk).update(status=Message.Status.ACKNOWLEDGED)
        assert escalation_send(message_id=message.pk, staff_id=first.pk, level=1) == "skipped"
        assert not DeliveryAttempt.objects.filter(message=message).exists()
    assert mail.outbox == []
