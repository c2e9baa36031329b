"""The caller CRM: E.164, blind-index lookups, consent history and merges."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from crm.models import ConsentRecord, Contact, ContactMerge
from crm.selectors import consent_current, contact_find_by_phone
from crm.services import consent_record, contact_create, contact_merge, contact_phone_add, contact_update
from tenants.errors import ApplicationError

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_acme(acme):
    with tenant_context(acme):
        yield acme


def test_numbers_are_stored_in_e164_and_found_by_any_spelling(in_acme):
    contact = contact_create(name="Kalle Kuusk", phone_number="+372 5550 1234", email="Kalle@Example.EE", actor=None)
    assert contact.phone_number == "+37255501234"
    assert contact.email == "Kalle@example.ee"
    assert contact_find_by_phone(number="+37255501234") == contact
    assert contact_find_by_phone(number="+372 555 01234") == contact
    assert contact_find_by_phone(number="+37255509999") is None
    assert contact_find_by_phone(number="not a number") is None


def test_additional_numbers_are_found_too(in_acme):
    contact = contact_create(name="Two Phones", phone_number="+37255501111", actor=None)
    contact_phone_add(contact=contact, number="+37255502222", label="work", actor=None)
    assert contact_find_by_phone(number="+37255502222") == contact


@pytest.mark.parametrize("number", ["5550", "+372", "+1 555 0000 00000 000", "abc"])
def test_a_malformed_number_is_a_field_error_naming_it(in_acme, number):
    before = Contact.objects.count()
    with pytest.raises(ApplicationError) as refused:
        contact_create(name="Bad Number", phone_number=number, actor=None)
    assert refused.value.field == "phone_number"
    assert number.strip() in refused.value.message
    assert Contact.objects.count() == before


def test_over_long_notes_are_refused_before_anything_is_stored(in_acme):
    before = Contact.objects.count()
    with pytest.raises(ApplicationError, match="10,000"):
        contact_create(name="Long Notes", notes="x" * 10_001, actor=None)
    assert Contact.objects.count() == before


def test_the_lookup_is_an_index_scan_not_a_decrypting_scan(in_acme):
    contact_create(name="Indexed", phone_number="+37255503333", actor=None)
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # small tables: make the planner show its index path
        plan = Contact.objects.filter(phone_bidx="x").explain()
        cursor.execute("SET enable_seqscan = on")
    assert "Index" in plan


def test_raw_sql_shows_no_plaintext_personal_values(in_acme):
    contact = contact_create(
        name="Plain Text Probe",
        phone_number="+37255504444",
        email="probe@example.ee",
        address="Probe street 1",
        notes="Probe note",
        actor=None,
    )
    consent_record(
        contact=contact, purpose="call_recording", granted=True, method="call", actor=None, evidence="Probe evidence"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(c)::text FROM crm_contact c")
        contacts = " ".join(row[0] for row in cursor.fetchall())
        cursor.execute("SELECT row_to_json(c)::text FROM crm_consentrecord c")
        consents = " ".join(row[0] for row in cursor.fetchall())
    for secret in ("Plain Text Probe", "+37255504444", "probe@example.ee", "Probe street", "Probe note"):
        assert secret not in contacts
    assert "Probe evidence" not in consents


def test_consent_is_a_history_never_an_overwrite(in_acme):
    contact = contact_create(name="Consenting", actor=None)
    assert consent_current(contact=contact, purpose="sms_reminders") is None
    consent_record(contact=contact, purpose="sms_reminders", granted=True, method="call", actor=None)
    consent_record(contact=contact, purpose="sms_reminders", granted=False, method="portal", actor=None)
    current = consent_current(contact=contact, purpose="sms_reminders")
    assert current.granted is False
    assert current.method == "portal"
    assert ConsentRecord.objects.filter(contact=contact, purpose="sms_reminders").count() == 2
    with pytest.raises(ApplicationError):
        consent_record(contact=contact, purpose="x", granted=True, method="telepathy", actor=None)


def test_merging_moves_everything_and_keeps_the_trail(in_acme):
    from answering.models import Call, Line

    keep = contact_create(name="Mari Maasikas", phone_number="+37255505555", actor=None)
    duplicate = contact_create(name="Mari M.", phone_number="+37255506666", email="mari@example.ee", actor=None)
    consent_record(contact=duplicate, purpose="call_recording", granted=True, method="call", actor=None)
    from django.utils import timezone

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


def test_update_normalises_and_refuses_unknown_fields(in_acme):
    contact = contact_create(name="Updating", actor=None)
    contact_update(contact=contact, phone_number="+372 5550 7777", actor=None)
    assert contact_find_by_phone(number="+37255507777") == contact
    with pytest.raises(ApplicationError):
        contact_update(contact=contact, restricted=True, actor=None)


def test_the_timeline_goes_through_the_gates(acme):
    from django.utils import timezone

    from answering.models import Call, Line, Message
    from crm.timeline import contact_timeline
    from gates.engine import policy_for
    from tenants.models import User

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
