"""The audit app's listeners: every read of personal fields, and every refusal, on every channel,
becomes an access-log row in the company's schema; every audit row written there gets its link in
the hash chain."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from audit.models import AccessLogEntry, ChainLink, UnsealedEntry
from audit.sealing import audit_seal
from crm.models import Contact
from crm.services import contact_create
from gates.signals import report_read

pytestmark = pytest.mark.django_db


def test_admin_pages_exports_and_refusals_are_in_the_access_log(acme, admin_for, agent2):
    from answering.models import Call

    with tenant_context(acme):
        granted = Call.objects.filter(line__phone_number="+3726001001").first()
        hidden = Call.objects.filter(line__phone_number="+3726001002").first()
        before = AccessLogEntry.objects.count()
    client = admin_for(agent2, "acme")
    client.get("/admin/answering/call/")
    client.get(f"/admin/answering/call/{granted.pk}/change/")
    client.post("/admin/answering/call/", {"action": "export_csv", "_selected_action": [granted.pk]})
    client.get(f"/admin/answering/call/{hidden.pk}/change/")
    with tenant_context(acme):
        entries = list(AccessLogEntry.objects.order_by("pk")[before:])
    assert [(e.channel, e.refused) for e in entries] == [
        ("admin", False),
        ("admin", False),
        ("export", False),
        ("admin", True),
    ]
    listing, form, _, refused = entries
    assert str(granted.pk) in listing.object_ids
    assert str(hidden.pk) not in listing.object_ids
    assert set(form.fields) == {"caller_name", "caller_number", "notes"}
    assert form.user == agent2
    assert refused.object_ids == [str(hidden.pk)]
    assert refused.fields == []


def test_a_masked_field_is_not_logged_as_read(globex, admin_for, agent1):
    from answering.models import Call

    with tenant_context(globex):
        call = Call.objects.first()
    admin_for(agent1, "globex").get(f"/admin/answering/call/{call.pk}/change/")
    with tenant_context(globex):
        entry = AccessLogEntry.objects.order_by("-pk").first()
    assert "caller_number" not in entry.fields  # globex never showed it, so it was never read
    assert "caller_name" in entry.fields


def test_api_reads_by_client_users_are_logged(acme, client_for, acme_admin):
    from answering.models import Line, Message

    with tenant_context(acme):
        message = Message.objects.create(line=Line.objects.first(), caller_name="Api Reader", body="x")
    client_for("acme.localhost", acme_admin).get(f"/api/v1/messages/{message.pk}/")
    client_for("acme.localhost", acme_admin).get("/api/v1/messages/999999/")
    with tenant_context(acme):
        read, refused = AccessLogEntry.objects.order_by("-pk")[:2][::-1]
    assert (read.channel, read.object_ids, read.refused) == ("api", [str(message.pk)], False)
    assert "caller_name" in read.fields
    assert (refused.refused, refused.object_ids) == (True, ["999999"])


def test_an_anonymous_read_is_logged_without_a_person_and_a_long_path_is_cut(acme):
    with tenant_context(acme):
        contact = Contact.objects.order_by("pk").first()
        report_read(
            user=AnonymousUser(),
            channel="portal",
            model=Contact,
            object_ids=[contact.pk],
            fields=["name", "phone_number"],
            path="/x" * 400,
        )
        entry = AccessLogEntry.objects.order_by("-pk").first()
    assert entry.user is None
    assert (entry.object_type, entry.object_ids, entry.refused) == ("crm.Contact", [str(contact.pk)], False)
    assert sorted(entry.fields) == ["name", "phone_number"]
    assert entry.path == ("/x" * 400)[:300]


def test_a_read_on_the_public_schema_writes_nothing(acme_admin, acme):
    with tenant_context(acme):
        contact = Contact.objects.order_by("pk").first()
    connection.set_schema_to_public()
    with CaptureQueriesContext(connection) as queries:
        report_read(user=acme_admin, channel="admin", model=Contact, object_ids=[contact.pk], fields=["name"])
    assert [q["sql"] for q in queries.captured_queries if "INSERT" in q["sql"]] == []


def test_every_change_and_access_row_in_a_company_is_queued_then_gets_its_link(acme, acme_admin):
    with tenant_context(acme):
        contact = contact_create(name="Linked Person", phone_number="+37255560077", actor=acme_admin)
        change = LogEntry.objects.get_for_object(contact).get()
        report_read(user=acme_admin, channel="portal", model=Contact, object_ids=[contact.pk], fields=["name"])
        access = AccessLogEntry.objects.order_by("-pk").first()
        # Written without the chain: the trigger queued both, in the order they were written.
        queued = list(UnsealedEntry.objects.filter(ref_id__in=[change.pk, access.pk]).values_list("kind", "ref_id"))
        assert queued.index(("change", change.pk)) < queued.index(("access", access.pk))
        assert not ChainLink.objects.filter(kind="access", ref_id=access.pk).exists()
        audit_seal()
        assert ChainLink.objects.filter(kind="change", ref_id=change.pk).count() == 1
        assert ChainLink.objects.filter(kind="access", ref_id=access.pk).count() == 1
        assert not UnsealedEntry.objects.filter(kind="access", ref_id=access.pk).exists()


def test_a_change_logged_in_the_public_schema_gets_no_link(acme):
    connection.set_schema_to_public()
    with CaptureQueriesContext(connection) as queries:
        entry = LogEntry.objects.log_create(
            acme, force_log=True, action=LogEntry.Action.ACCESS, changes={"backup": ["then", "test"]}
        )
    assert entry.pk is not None
    assert [q["sql"] for q in queries.captured_queries if "chainlink" in q["sql"] or "advisory" in q["sql"]] == []
    with connection.cursor() as cursor:  # and no queue: the public schema has no chain
        cursor.execute("SELECT to_regclass('public.audit_unsealedentry')")
        assert cursor.fetchone()[0] is None
