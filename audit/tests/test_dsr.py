"""Data-subject requests: everything that is theirs, nothing of anyone else; erasure except holds."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import Call, Message
from audit.models import LegalHold
from crm.models import Contact
from tenants.models import User

pytestmark = pytest.mark.django_db


def test_an_access_request_returns_everything_theirs_and_nothing_else(client_for, acme_admin, two_callers):
    client = client_for("acme.localhost", acme_admin)
    created = client.post(
        "/api/v1/data-subject-requests/",
        {"kind": "access", "phone_number": "+372 5558 1111"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "done"
    assert (dt.datetime.fromisoformat(body["due_at"]) - dt.datetime.fromisoformat(body["raised_at"])).days == 30
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/api/v1/data-subject-requests/{body['id']}/export/").content))
    records = archive.read("records.json").decode()
    assert "Subject Person" in records
    assert "Message of Subject Person" in records
    assert "subject@example.ee" in records
    assert "Bystander" not in records
    assert "+37255582222" not in records
    assert json.loads(records)["calls"][0]["caller_number"] == "+37255581111"


def test_an_erasure_leaves_no_trace_beyond_what_it_says_it_keeps(acme, client_for, acme_admin, two_callers):
    mine, other = two_callers
    response = client_for("acme.localhost", acme_admin).post(
        "/api/v1/data-subject-requests/",
        {"kind": "erasure", "email": "subject@example.ee"},
        content_type="application/json",
    )
    result = response.json()["result"]
    assert response.json()["status"] == "done"
    assert result["erased"]["contacts anonymised"] == 1
    assert any("statistics" in kept for kept in result["kept"])
    with tenant_context(acme):
        mine.refresh_from_db()
        assert (mine.name, mine.phone_number, mine.email) == ("Erased data subject", "", "")
        assert Message.objects.get(contact=mine).body == ""
        assert Call.objects.get(contact=mine).caller_number == ""
        assert Contact.objects.get(pk=other.pk).name == "Bystander Person"  # nobody else is touched
        assert Message.objects.get(contact=other).body == "Message of Bystander Person"
        from crm.selectors import contact_find_by_phone

        assert contact_find_by_phone(number="+37255581111") is None


def test_an_erasure_under_legal_hold_is_refused_with_the_reason(acme, client_for, acme_admin, two_callers):
    mine, _ = two_callers
    with tenant_context(acme):
        dpo = User.objects.get(username="dpo")
        LegalHold.objects.create(
            contact=mine,
            reason="Pending malpractice claim",
            created_by=dpo,
            expires_at=timezone.now() + dt.timedelta(days=90),
        )
    response = client_for("acme.localhost", acme_admin).post(
        "/api/v1/data-subject-requests/",
        {"kind": "erasure", "phone_number": "+37255581111"},
        content_type="application/json",
    )
    assert response.json()["status"] == "refused"
    assert "Pending malpractice claim" in response.json()["result"]["refused"]
    with tenant_context(acme):
        assert Contact.objects.get(pk=mine.pk).name == "Subject Person"


def test_requests_are_for_client_admins_and_need_an_identifier(client_for, acme, globex_admin, acme_admin):
    assert client_for("acme.localhost", globex_admin).get("/api/v1/data-subject-requests/").status_code == 404
    bad = client_for("acme.localhost", acme_admin).post(
        "/api/v1/data-subject-requests/", {"kind": "access"}, content_type="application/json"
    )
    assert bad.status_code == 400
    assert bad.json()["field"] == "phone_number"


def test_a_rectification_corrects_every_record_of_the_person(acme, client_for, acme_admin, two_callers):
    mine, other = two_callers
    client = client_for("acme.localhost", acme_admin)
    correction = {
        "kind": "rectification",
        "phone_number": "+37255581111",
        "corrections": {"name": "Subject Person-Corrected"},
    }
    response = client.post("/api/v1/data-subject-requests/", correction, content_type="application/json")
    assert response.json()["status"] == "done"
    with tenant_context(acme):
        assert Contact.objects.get(pk=mine.pk).name == "Subject Person-Corrected"
        assert Contact.objects.get(pk=other.pk).name == "Bystander Person"
    refused = client.post(
        "/api/v1/data-subject-requests/",
        {"kind": "rectification", "phone_number": "+37255581111", "corrections": {"health_notes": "x"}},
        content_type="application/json",
    )
    assert refused.status_code == 400
    assert refused.json()["field"] == "corrections"


def test_client_admins_read_the_access_log_in_the_portal(acme, admin_for, client_for, acme_admin, globex_admin):
    agent2 = User.objects.get(username="agent2")
    admin_for(agent2, "acme").get("/admin/answering/call/")
    page = client_for("acme.localhost", acme_admin).get("/access-log/")
    assert page.status_code == 200
    assert "agent2" in page.content.decode()
    assert client_for("acme.localhost", globex_admin).get("/access-log/").status_code == 404


def test_an_erasure_deletes_the_persons_earlier_access_export(
    acme, client_for, acme_admin, two_callers, django_capture_on_commit_callbacks
):
    from audit.models import DataSubjectRequest
    from tenants.files import encrypted_file_read

    client = client_for("acme.localhost", acme_admin)
    access = client.post(
        "/api/v1/data-subject-requests/",
        {"kind": "access", "phone_number": "+37255581111"},
        content_type="application/json",
    ).json()
    bystander = client.post(
        "/api/v1/data-subject-requests/",
        {"kind": "access", "phone_number": "+37255582222"},
        content_type="application/json",
    ).json()
    with tenant_context(acme):
        export = DataSubjectRequest.objects.get(pk=access["id"]).export_file
    assert export
    with django_capture_on_commit_callbacks(execute=True):
        erased = client.post(
            "/api/v1/data-subject-requests/",
            {"kind": "erasure", "email": "subject@example.ee"},
            content_type="application/json",
        )
    assert erased.status_code == 201, erased.content
    assert erased.json()["result"]["erased"]["earlier access exports deleted"] == 1
    with tenant_context(acme):
        assert DataSubjectRequest.objects.get(pk=access["id"]).export_file == ""
        assert DataSubjectRequest.objects.get(pk=bystander["id"]).export_file  # someone else's stays
    with pytest.raises(FileNotFoundError):
        encrypted_file_read(export)
    assert client.get(f"/api/v1/data-subject-requests/{access['id']}/export/").status_code in (404, 410)
