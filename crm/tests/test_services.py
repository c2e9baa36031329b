"""The caller CRM: E.164, blind-index lookups, consent history; the edit rules, once, for every
channel; and every write in the change log with who made it. (Merges, which also move calls and
appointments, are answering.contacts': see answering/tests/test_contacts.py.)"""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from crm.models import ConsentRecord, Contact
from crm.selectors import consent_current, contact_find_by_phone
from crm.services import EDITABLE, consent_record, contact_create, contact_phone_add, contact_update
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


def test_update_normalises_and_refuses_unknown_fields(in_acme):
    contact = contact_create(name="Updating", actor=None)
    contact_update(contact=contact, phone_number="+372 5550 7777", actor=None)
    assert contact_find_by_phone(number="+37255507777") == contact
    with pytest.raises(ApplicationError):
        contact_update(contact=contact, restricted=True, actor=None)


# ---- one set of edit rules, the same errors on every channel ------------------------------------

BAD_INPUT = [
    ("phone_number", "5550"),
    ("email", "not-an-address"),
    ("name", "   "),
    ("name", "x" * 201),
    ("address", "x" * 2001),
    ("notes", "x" * 10_001),
    ("lawful_basis", "because"),
]


def _refusal(call) -> tuple[str | None, str]:
    with pytest.raises(ApplicationError) as refused:
        call()
    return refused.value.field, refused.value.message


def _portal_refusal(response) -> tuple[str | None, str]:
    assert response.status_code == 200
    ((field, (message,)),) = response.context["form"].errors.items()
    return field, message


def _api_refusal(response) -> tuple[str | None, str]:
    assert response.status_code == 400
    body = response.json()
    return body.get("field"), body["detail"]


@pytest.fixture
def editable(acme):
    with tenant_context(acme):
        return contact_create(name="Edit Rules", phone_number="+37255509001", lawful_basis="consent", actor=None)


@pytest.mark.parametrize(("field", "value"), BAD_INPUT)
def test_an_update_is_refused_alike_by_the_service_the_portal_and_the_api(
    acme, acme_admin, client_for, editable, field, value
):
    with tenant_context(acme):
        expected = _refusal(lambda: contact_update(contact=editable, actor=acme_admin, **{field: value}))
    client = client_for("acme.localhost", acme_admin)
    form = {name: getattr(editable, name) for name in EDITABLE} | {field: value}
    portal = _portal_refusal(client.post(f"/contacts/{editable.pk}/edit/", form))
    api = _api_refusal(
        client.patch(f"/api/v1/contacts/{editable.pk}/", {field: value}, content_type="application/json")
    )
    assert portal == api == expected
    with tenant_context(acme):
        assert Contact.objects.get(pk=editable.pk).name == "Edit Rules"  # nothing half-saved


@pytest.mark.parametrize(("field", "value"), BAD_INPUT)
def test_a_new_contact_is_refused_alike_by_the_service_the_portal_and_the_api(
    acme, acme_admin, client_for, field, value
):
    fields = {"name": "New Rules", "lawful_basis": "consent"} | {field: value}
    with tenant_context(acme):
        before = Contact.objects.count()
        expected = _refusal(lambda: contact_create(actor=acme_admin, **fields))
    client = client_for("acme.localhost", acme_admin)
    portal = _portal_refusal(client.post("/contacts/new/", fields))
    api = _api_refusal(client.post("/api/v1/contacts/", fields, content_type="application/json"))
    assert portal == api == expected
    with tenant_context(acme):
        assert Contact.objects.count() == before


def test_an_erased_or_merged_contact_is_refused_alike_on_both_channels(acme, acme_admin, client_for, editable):
    with tenant_context(acme):
        Contact.objects.filter(pk=editable.pk).update(anonymised_at=timezone.now())  # as the purge marks it
        editable.refresh_from_db()
        expected = _refusal(lambda: contact_update(contact=editable, actor=acme_admin, notes="x"))
    client = client_for("acme.localhost", acme_admin)
    portal = client.get(f"/contacts/{editable.pk}/edit/", follow=True)
    assert [str(m) for m in portal.context["messages"]] == [expected[1]]
    api = client.patch(f"/api/v1/contacts/{editable.pk}/", {"notes": "x"}, content_type="application/json")
    assert _api_refusal(api) == expected
    assert api.json()["code"] == "not_editable"


def test_both_channels_store_the_same_normalised_values(acme, acme_admin, client_for):
    client = client_for("acme.localhost", acme_admin)
    typed = {"name": "  Same  Values ", "phone_number": "+372 5550 9002", "email": "Same@Example.EE"}
    client.post("/contacts/new/", {**typed, "lawful_basis": "consent"})
    client.post("/api/v1/contacts/", {**typed, "phone_number": "+372 5550 9003"}, content_type="application/json")
    with tenant_context(acme):
        portal, api = (contact_find_by_phone(number=n) for n in ("+37255509002", "+37255509003"))
        assert (portal.name, portal.email) == (api.name, api.email) == ("Same  Values", "Same@example.ee")


# ---- every write names its actor in the change log -----------------------------------------------


def test_every_crm_write_is_logged_with_its_actor(in_acme, acme_admin):
    contact = contact_create(name="Logged", actor=acme_admin)
    contact_update(contact=contact, actor=acme_admin, phone_number="+37255509004", notes="Secret note")
    phone = contact_phone_add(contact=contact, number="+37255509005", actor=acme_admin)
    consent = consent_record(contact=contact, purpose="sms_reminders", granted=True, method="call", actor=acme_admin)
    created, updated = LogEntry.objects.get_for_object(contact).order_by("pk")
    assert (created.action, updated.action) == (LogEntry.Action.CREATE, LogEntry.Action.UPDATE)
    assert {"phone_number", "notes"} <= set(updated.changes_dict)
    assert "Secret note" not in updated.changes  # masked: the change log never holds the values
    for entry in (created, updated, *LogEntry.objects.get_for_object(phone), *LogEntry.objects.get_for_object(consent)):
        assert entry.actor == acme_admin


def test_an_update_that_changes_nothing_writes_nothing(in_acme, acme_admin):
    contact = contact_create(name="Unchanged", phone_number="+37255509006", actor=acme_admin)
    contact_update(contact=contact, actor=acme_admin, name="Unchanged", phone_number="+372 5550 9006")
    assert LogEntry.objects.get_for_object(contact).count() == 1  # its creation only
