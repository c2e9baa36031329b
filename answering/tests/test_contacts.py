"""A contact across the rooms: merging duplicates (calls, messages and appointments move with the
CRM's numbers and consents, every move in the change log) and the timeline, through the gates."""

from __future__ import annotations

import datetime as dt

import pytest
from auditlog.models import LogEntry
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.contacts import contact_merge, contact_timeline
from answering.models import Call, Line, Message
from crm.models import ContactMerge
from crm.selectors import consent_current, contact_find_by_phone
from crm.services import consent_record, contact_create
from gates.engine import policy_for
from scheduling.models import Appointment, Resource, Service
from tenants.errors import ApplicationError
from tenants.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_acme(acme):
    with tenant_context(acme):
        yield acme


def test_merging_moves_everything_and_keeps_the_trail(in_acme):
    keep = contact_create(name="Mari Maasikas", phone_number="+37255505555", actor=None)
    duplicate = contact_create(name="Mari M.", phone_number="+37255506666", email="mari@example.ee", actor=None)
    consent_record(contact=duplicate, purpose="call_recording", granted=True, method="call", actor=None)
    call = Call.objects.create(
        line=Line.objects.first(), telephony_sid="CAmerge" + "0" * 27, started_at=timezone.now(), contact=duplicate
    )

    contact_merge(keep=keep, duplicate=duplicate, actor=None)

    keep.refresh_from_db()
    duplicate.refresh_from_db()
    call.refresh_from_db()
    assert call.contact == keep
    assert keep.email == "mari@example.ee"
    assert duplicate.merged_into == keep
    assert consent_current(contact=keep, purpose="call_recording").granted
    assert contact_find_by_phone(number="+37255506666") == keep  # the duplicate's number leads to the kept one
    record = ContactMerge.objects.get(kept=keep, merged=duplicate)
    assert record.moved["calls"] == 1
    with pytest.raises(ApplicationError):
        contact_merge(keep=keep, duplicate=duplicate, actor=None)


def test_every_row_a_merge_moves_is_in_the_change_log_with_the_actor(in_acme, acme_admin):
    keep = contact_create(name="Kept Person", actor=acme_admin)
    duplicate = contact_create(name="Kept P.", phone_number="+37255506677", actor=acme_admin)
    line = Line.objects.first()
    call = Call.objects.create(
        line=line, telephony_sid="CAmergelog" + "0" * 24, started_at=timezone.now(), contact=duplicate
    )
    message = Message.objects.create(line=line, contact=duplicate, body="Call me back")
    service, resource = Service.objects.first(), Resource.objects.first()
    starts = timezone.now() + dt.timedelta(days=30)
    appointment = Appointment.objects.create(
        service=service,
        resource=resource,
        contact=duplicate,
        starts_at=starts,
        ends_at=starts + dt.timedelta(minutes=30),
        blocked=(starts, starts + dt.timedelta(minutes=30)),
    )

    contact_merge(keep=keep, duplicate=duplicate, actor=acme_admin)

    for row in (call, message, appointment):
        row.refresh_from_db()
        assert row.contact_id == keep.pk
        moved = LogEntry.objects.get_for_object(row).get(action=LogEntry.Action.UPDATE)
        assert moved.changes_dict["contact"] == [str(duplicate.pk), str(keep.pk)]
        assert moved.actor == acme_admin
    record = ContactMerge.objects.get(kept=keep, merged=duplicate)
    assert record.moved == {"calls": 1, "messages": 1, "appointments": 1, "phones": 0, "consents": 0}
    keep.refresh_from_db()
    assert keep.phone_number == "+37255506677"  # an empty field of the kept contact, filled
    assert record.merged_by == acme_admin
    absorbed = LogEntry.objects.get_for_object(duplicate).filter(action=LogEntry.Action.UPDATE).get()
    assert absorbed.actor == acme_admin
    assert "merged_into" in absorbed.changes_dict


def test_a_merge_into_itself_moves_nothing(in_acme):
    contact = contact_create(name="Alone", actor=None)
    with pytest.raises(ApplicationError) as refused:
        contact_merge(keep=contact, duplicate=contact, actor=None)
    assert refused.value.field == "duplicate"
    assert not ContactMerge.objects.filter(kept=contact).exists()


def test_the_timeline_goes_through_the_gates(acme):
    with tenant_context(acme):
        contact = contact_create(name="Timeline Person", phone_number="+37255508888", actor=None)
        granted = Line.objects.get(phone_number="+3726001001")
        hidden = Line.objects.get(phone_number="+3726001002")  # agent2 holds no grant here
        Call.objects.create(line=granted, telephony_sid="CAtl1" + "0" * 29, started_at=timezone.now(), contact=contact)
        Call.objects.create(line=hidden, telephony_sid="CAtl2" + "0" * 29, started_at=timezone.now(), contact=contact)
        Message.objects.create(line=hidden, contact=contact, body="Secret about the emergency line")
        agent2, agent1 = User.objects.get(username="agent2"), User.objects.get(username="agent1")
        seen_by_agent2 = contact_timeline(contact=contact, user=agent2, policy=policy_for(user=agent2, company=acme))
        seen_by_agent1 = contact_timeline(contact=contact, user=agent1, policy=policy_for(user=agent1, company=acme))
    assert [e.summary for e in seen_by_agent2] == ["Completed call on Acme Dental reception"]
    assert len(seen_by_agent1) == 3
    assert any("Secret about the emergency line" in e.summary for e in seen_by_agent1)
