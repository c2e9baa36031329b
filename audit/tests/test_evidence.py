"""Audit evidence packs: made from the records, about one company only, for its admins and the DPO."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from auditlog.models import LogEntry
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.utils import timezone
from django_tenants.utils import tenant_context

from audit.models import AccessLogEntry, EvidencePack
from compliance.agreements.models import Agreement
from compliance.incidents.models import Incident, IncidentCompany
from crm.models import Contact
from crm.services import contact_create
from tenants.models import AuditCheckpoint, Membership, User
from tenants.signing import canonical_bytes

pytestmark = pytest.mark.django_db


def _seeded_values(company) -> set[str]:
    """What the demo seeded for a company, and what a pack about it would show."""
    values = {company.schema_name, company.name, f"{company.schema_name}-admin", f"admin@{company.schema_name}.example"}
    with tenant_context(company):
        for contact in Contact.objects.all():
            values |= {v for v in (contact.name, contact.phone_number, contact.email) if v}
    for version in Agreement.objects.get(company=company).versions.all():
        values |= {v for v in (version.subject_matter, version.nature_and_purpose, version.client_signed_by) if v}
        values |= set(version.sub_processors.values_list("name", flat=True))
    return values


@pytest.fixture
def shared_incident(acme, globex):
    dpo = User.objects.get(username="dpo")
    incident = Incident.objects.create(
        title="Mis-sent voicemail e-mails",
        description="A routing rule sent e-mails to the wrong mailbox.",
        detected_at=timezone.now(),
        recorded_by=dpo,
        categories=["user.voice"],
    )
    for company in (acme, globex):
        IncidentCompany.objects.create(
            incident=incident, company=company, notification_hours=24, deadline=timezone.now() + dt.timedelta(hours=24)
        )
    return incident


def test_acmes_pack_holds_its_records_and_nothing_about_globex(produce_pack, acme, globex, acme_admin, shared_incident):
    with tenant_context(globex):
        contact_create(
            name="Gregor Globexian", phone_number="+37255590001", email="gregor@globex-client.ee", actor=None
        )
    call_command("audit_checkpoint", "--tenant", "acme")
    call_command("audit_checkpoint", "--tenant", "globex")
    with tenant_context(acme):
        _pack, files = produce_pack(acme_admin)
    assert {
        "index.html",
        "manifest.json",
        "agreement.json",
        "agreement_history.csv",
        "sub_processors.csv",
        "staff.csv",
        "access_log_summary.csv",
        "retention_runs.csv",
        "data_subject_requests.csv",
        "incidents.json",
        "security_measures.json",
        "audit_checkpoints.jsonl",
        "audit_public_key.pem",
    } <= set(files)

    # It is generated from acme's records.
    agreement = json.loads(files["agreement.json"])
    active = Agreement.objects.get(company=acme).versions.get(status="active")
    assert [v["number"] for v in agreement["versions"] if v["status"] == "active"] == [active.number]
    staff = list(csv.DictReader(io.StringIO(files["staff.csv"].decode())))
    assert {"agent1", "agent2"} <= {row["username"] for row in staff}
    agent1 = {row["course"]: row for row in staff if row["username"] == "agent1"}
    assert agent1["health-data"]["valid_today"] == "True"  # acme's DPA requires it
    assert all(row["confidentiality_signed_on"] for row in staff)
    subs = list(csv.DictReader(io.StringIO(files["sub_processors.csv"].decode())))
    assert subs
    assert all(row["certifications"] for row in subs)
    incidents = json.loads(files["incidents.json"])
    assert [i["incident"] for i in incidents] == [shared_incident.pk]
    manifest = json.loads(files["manifest.json"])
    assert manifest["company"] == "acme"
    assert set(manifest["files"]) == set(files) - {"index.html", "manifest.json"}
    assert b"Audit evidence: " + acme.name.encode() in files["index.html"]
    # acme's signed checkpoints, each verifying with the key beside them, and none of globex's.
    key = load_pem_public_key(files["audit_public_key.pem"])
    lines = [json.loads(text) for text in files["audit_checkpoints.jsonl"].decode().splitlines()]
    mine = AuditCheckpoint.objects.filter(company=acme)
    assert [line["payload"]["seq"] for line in lines] == list(mine.order_by("seq").values_list("seq", flat=True))
    assert len(lines) == 1
    assert {line["payload"]["company"] for line in lines} == {"acme"}
    for line in lines:
        key.verify(bytes.fromhex(line["signature"]), canonical_bytes(line["payload"]))
    theirs = AuditCheckpoint.objects.get(company=globex)
    assert theirs.head_hash.encode() not in b"\n".join(files.values())
    assert theirs.signature.encode() not in b"\n".join(files.values())

    # ...and nothing in it, in any file, is globex's.
    everything = b"\n".join(files.values()).decode().lower()
    globex_only = _seeded_values(globex) - _seeded_values(acme)  # the demo's DPAs share some wording
    assert len(globex_only) >= 8
    leaked = sorted(value for value in globex_only if value.lower() in everything)
    assert leaked == []


def test_producing_and_downloading_a_pack_are_logged(produce_pack, acme, acme_admin):
    with tenant_context(acme):
        pack, _files = produce_pack(acme_admin)
        created = LogEntry.objects.get(
            content_type=ContentType.objects.get_for_model(EvidencePack),
            object_pk=str(pack.pk),
            action=LogEntry.Action.CREATE,
        )
        assert created.actor == acme_admin
        download = AccessLogEntry.objects.get(object_type="audit.EvidencePack")
        assert (download.user, download.channel, download.object_ids) == (acme_admin, "portal", [str(pack.pk)])


def test_only_the_companys_admins_may_ask_for_or_download_a_pack(
    client_for, produce_pack, acme, acme_admin, globex_admin
):
    member = User.objects.create_user("acme-member-ev", password="x")
    Membership.objects.create(user=member, company=acme, role=Membership.Role.CLIENT_MEMBER)
    with tenant_context(acme):
        pack, _files = produce_pack(acme_admin)
    for person in (member, globex_admin):
        client = client_for("acme.localhost", person)
        assert client.get("/audits/").status_code == 404
        assert client.post("/audits/").status_code == 404
        assert client.post(f"/audits/{pack.pk}/download/").status_code == 404
    # A globex admin on globex's own host cannot reach acme's pack by its id.
    assert client_for("globex.localhost", globex_admin).post(f"/audits/{pack.pk}/download/").status_code == 404
    with tenant_context(acme):
        assert EvidencePack.objects.count() == 1
