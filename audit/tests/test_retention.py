"""The retention purge, from the side of the data that must be gone, and of the data on hold."""

from __future__ import annotations

import datetime as dt

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import Call, Line, Message
from audit.models import LegalHold, RetentionRun
from audit.retention import ANONYMISED, retention_purge
from crm.models import Contact
from tenants.models import User

pytestmark = pytest.mark.django_db
LATER = dt.timedelta(days=400)  # past acme's 365-day retention


@pytest.fixture
def seeded(acme):
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001001")
        kept = Contact.objects.create(name="Held Person", phone_number="+37255571111")
        gone = Contact.objects.create(name="Purged Person", phone_number="+37255572222")
        for contact, sid in ((kept, "CAkeep"), (gone, "CAgone")):
            call = Call.objects.create(
                line=line,
                telephony_sid=sid + "0" * 28,
                started_at=timezone.now(),
                caller_number=contact.phone_number,
                caller_name=contact.name,
                notes=f"Notes of {contact.name}",
                contact=contact,
            )
            Message.objects.create(
                line=line, call=call, contact=contact, body=f"Body of {contact.name}", caller_name=contact.name
            )
        dpo = User.objects.get(username="dpo")
        LegalHold.objects.create(
            contact=kept,
            reason="Court order 2-26-1234",
            created_by=dpo,
            expires_at=timezone.now() + dt.timedelta(days=800),
        )
        yield kept, gone


def _dump(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT row_to_json(t)::text FROM {table} t")
        return " ".join(row[0] for row in cursor.fetchall())


def test_a_dry_run_counts_and_changes_nothing(acme, seeded):
    _, gone = seeded
    with tenant_context(acme):
        run = retention_purge(dry_run=True, now=timezone.now() + LATER)
        assert run.report["purged"]["message bodies and answers"] >= 1
        assert Message.objects.get(contact=gone).body == "Body of Purged Person"


def test_a_purge_past_retention_leaves_no_trace_of_the_purged_and_keeps_what_is_held(acme, seeded):
    kept, gone = seeded
    with tenant_context(acme):
        run = retention_purge(now=timezone.now() + LATER, batch=2)
        gone.refresh_from_db()
        assert gone.name == ANONYMISED
        assert Message.objects.get(contact=gone).body == ""
        call = Call.objects.get(contact=gone)
        assert (call.caller_number, call.caller_name, call.notes) == ("", "", "")
        assert call.line.phone_number == "+3726001001"  # the non-personal stub stays, for statistics
        assert Message.objects.get(contact=kept).body == "Body of Held Person"
        assert Contact.objects.get(pk=kept.pk).name == "Held Person"
        assert run.report["held"]["message bodies and answers"] == 1
        assert run.report["held"]["inactive contacts"] == 1
        for table in ("crm_contact", "answering_call", "answering_message"):
            text = _dump(table)
            assert "Purged Person" not in text  # encrypted anyway; this is about the values being gone
        assert contact_search(gone.pk) is None


def contact_search(pk):
    from crm.selectors import contact_find_by_phone

    found = contact_find_by_phone(number="+37255572222")
    return found if found and found.pk == pk else None


def test_a_second_run_finds_nothing_left_to_do(acme, seeded):
    with tenant_context(acme):
        retention_purge(now=timezone.now() + LATER)
        again = retention_purge(now=timezone.now() + LATER)
        assert all(count == 0 for count in again.report["purged"].values())


def test_a_run_is_one_change_log_entry_not_one_per_row(acme, seeded):
    with tenant_context(acme):
        before = LogEntry.objects.count()
        run = retention_purge(now=timezone.now() + LATER)
        new = LogEntry.objects.count() - before
        assert sum(run.report["purged"].values()) > 5
        assert new <= 2  # the run's creation and its final report
        assert LogEntry.objects.get_for_object(run).exists()


def test_without_a_dpa_in_force_nothing_is_purged(initech):
    with tenant_context(initech):
        run = retention_purge(now=timezone.now() + LATER)
        assert run.report["purged"] == {}
        assert "no DPA in force" in run.report["policy"]
        assert RetentionRun.objects.filter(pk=run.pk).exists()
