"""The audit trail: masked change log, access log on every channel, a hash chain that reveals
tampering, and rows the application cannot change."""

from __future__ import annotations

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django_tenants.utils import tenant_context

from audit.chain import chain_verify
from audit.models import AccessLogEntry, ChainLink
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


def test_audit_rows_cannot_be_changed_or_deleted_by_the_application(acme, admin_for, agent1):
    admin_for(agent1, "acme").get("/admin/answering/call/")
    with tenant_context(acme):
        entry = AccessLogEntry.objects.order_by("-pk").first()
        link = ChainLink.objects.order_by("-seq").first()
        for attempt in (
            lambda: AccessLogEntry.objects.filter(pk=entry.pk).update(fields=[]),
            lambda: AccessLogEntry.objects.filter(pk=entry.pk).delete(),
            lambda: ChainLink.objects.filter(pk=link.pk).update(hash="0" * 64),
            lambda: LogEntry.objects.all().delete(),
        ):
            with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
                attempt()


def test_verify_audit_finds_the_tampered_entry(acme, admin_for, agent1):
    client = admin_for(agent1, "acme")
    for _ in range(3):
        client.get("/admin/answering/call/")
    with tenant_context(acme):
        assert chain_verify()[1] is None
        victim = AccessLogEntry.objects.order_by("-pk")[1]
        with connection.cursor() as cursor:
            # A superuser, by hand, past the trigger: exactly what the chain is there to reveal.
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("UPDATE audit_accesslogentry SET fields = '[]' WHERE id = %s", [victim.pk])
            cursor.execute("SET LOCAL session_replication_role = origin")
        _, failure = chain_verify()
        link = ChainLink.objects.get(kind="access", ref_id=victim.pk)
    assert failure is not None
    assert (failure.seq, failure.ref_id, failure.reason) == (link.seq, victim.pk, "the audit row was changed")
    with pytest.raises(CommandError, match="acme"):
        call_command("verify_audit", "--tenant", "acme")


def test_verify_audit_reports_an_intact_chain(capsys, globex, admin_for, agent1):
    admin_for(agent1, "globex").get("/admin/answering/call/")
    call_command("verify_audit", "--tenant", "globex")
    assert "chain intact" in capsys.readouterr().out


def test_contacts_are_in_the_change_log(acme):
    with tenant_context(acme):
        contact = Contact.objects.create(name="Logged Create")
        assert LogEntry.objects.get_for_object(contact).exists()


def test_client_admins_see_who_at_the_provider_looked_at_what(acme, admin_for, agent2, client_for, acme_admin):
    from answering.models import Call

    with tenant_context(acme):
        call = Call.objects.filter(line__phone_number="+3726001001").first()
    admin_for(agent2, "acme").get(f"/admin/answering/call/{call.pk}/change/")
    client = client_for("acme.localhost", acme_admin)
    client.get("/api/v1/messages/")  # the client's own reads are not listed
    entries = client.get("/api/v1/access-log/").json()["results"]
    assert entries[0]["who"] == "agent2"
    assert entries[0]["role"] == "Agent"
    assert entries[0]["object_ids"] == [str(call.pk)]
    assert "caller_number" in entries[0]["fields"]
    assert all(entry["who"] != "acme-admin" for entry in entries)


def test_the_access_log_is_for_client_admins_of_that_company_only(client_for, globex_admin, acme):
    from tenants.models import Membership, User

    member = User.objects.create_user("acme-member2", password="x")
    Membership.objects.create(user=member, company=acme, role=Membership.Role.CLIENT_MEMBER)
    assert client_for("acme.localhost", member).get("/api/v1/access-log/").status_code == 403
    assert client_for("acme.localhost", globex_admin).get("/api/v1/access-log/").status_code == 404
