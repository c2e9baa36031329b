"""The change log: every model that holds personal data is in it, and it records who changed which
field, never the value (`mask_value`)."""

from __future__ import annotations

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.db import connection
from django_tenants.utils import tenant_context

from audit.masking import mask_value
from crm.models import Contact
from crm.services import contact_create, contact_update

pytestmark = pytest.mark.django_db


def test_the_change_log_records_who_changed_what_but_never_a_value(acme, agent1):
    with tenant_context(acme), set_actor(agent1):
        contact = contact_create(name="Changed Person", phone_number="+37255560000", actor=agent1)
        contact_update(contact=contact, name="Renamed Person", actor=agent1)
        entries = LogEntry.objects.get_for_object(contact).order_by("timestamp")
        assert [e.action for e in entries] == [LogEntry.Action.CREATE, LogEntry.Action.UPDATE]
        assert entries[1].actor == agent1
        assert set(entries[1].changes_dict) >= {"name"}
        with connection.cursor() as cursor:
            cursor.execute("SELECT row_to_json(l)::text FROM auditlog_logentry l")
            log = " ".join(row[0] for row in cursor.fetchall())
    for value in ("Changed Person", "Renamed Person", "+37255560000"):
        assert value not in log
    assert "[masked]" in log


def test_contacts_are_in_the_change_log(acme):
    with tenant_context(acme):
        contact = Contact.objects.create(name="Logged Create")
        assert LogEntry.objects.get_for_object(contact).exists()


@pytest.mark.parametrize("value", ["+37255560000", "Mari Maasikas", "", "x"])
def test_the_mask_keeps_nothing_of_the_value(value):
    assert mask_value(value) == "[masked]"
