"""The client's agreement screen and API: the DPA in force, signing or rejecting a version with a
comment, objecting to a sub-processor in its window (recorded for the DPO), members reading only,
and no company reaching another's agreement (they share the public schema)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from compliance.agreements import services as dpa
from compliance.agreements.models import AgreementVersion, ClientComment, SubProcessor, SubProcessorObjection
from tenants.models import Membership, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def drafter(db):
    return User.objects.get(username="provider-admin")


@pytest.fixture
def proposed(acme, drafter):
    """Version 2 of acme's DPA, submitted to the DPO: a copy of the one in force, adding a
    sub-processor authorised today (its objection window open) and health data for agents."""
    active = AgreementVersion.objects.get(agreement__company=acme, status="active")
    version = dpa.dpa_draft_create(company=acme, actor=drafter, copy_from=active)
    dpa.dpa_grant_add(version=version, role="agent", category="user.health", action="read", actor=drafter)
    dpa.dpa_retention_set(version=version, category="user.health", days=30, actor=drafter)
    dpa.dpa_sub_processor_add(
        version=version,
        name="Speechmatics Ltd",
        purpose="Voicemail transcription",
        location="EU (Ireland)",
        authorised_on=timezone.localdate(),
        actor=drafter,
    )
    return dpa.dpa_submit(version=version, actor=drafter)


@pytest.fixture
def acme_member(acme):
    member = User.objects.create_user("acme-member", password="x")
    Membership.objects.create(user=member, company=acme, role=Membership.Role.CLIENT_MEMBER)
    return member


def _new_sub(proposed) -> SubProcessor:
    return proposed.sub_processors.get(name="Speechmatics Ltd")


def test_the_page_shows_the_dpa_in_force_its_categories_and_retention(client_for, acme_admin):
    page = client_for("acme.localhost", acme_admin).get("/agreement/").content.decode()
    assert "in force" in page
    for category in ["user.contact.name", "user.contact.phone_number", "user.biometrics.voice"]:
        assert category in page
    assert "user.health" not in page  # acme's DPA does not grant health data
    assert "365 days" in page
    assert "90 days" in page
    assert "Twilio Ireland Ltd" in page
    assert "Nothing is waiting for you." in page


def test_a_pending_version_shows_what_changes_and_can_be_signed(client_for, acme, acme_admin, proposed):
    client = client_for("acme.localhost", acme_admin)
    page = client.get("/agreement/").content.decode()
    assert f"Sign version {proposed.number}" in page
    assert "user.health" in page  # in the diff and in the version's grants
    assert "Speechmatics Ltd" in page

    response = client.post(f"/agreement/versions/{proposed.pk}/sign/")
    assert response.status_code == 302
    proposed.refresh_from_db()
    assert proposed.client_signed_at is not None
    assert proposed.client_signed_by == "acme-admin"
    assert proposed.status == "submitted"  # still the DPO's to approve and activate
    assert AgreementVersion.objects.get(agreement__company=acme, status="active").number == 1


def test_rejecting_needs_a_comment_and_sends_the_version_back(client_for, admin_for, acme_admin, proposed):
    client = client_for("acme.localhost", acme_admin)
    empty = client.post(f"/agreement/versions/{proposed.pk}/reject/", {f"v{proposed.pk}-comment": "  "})
    assert empty.status_code == 200
    assert "This field is required." in empty.content.decode() or "say why" in empty.content.decode()
    proposed.refresh_from_db()
    assert proposed.status == "submitted"

    rejected = client.post(
        f"/agreement/versions/{proposed.pk}/reject/",
        {f"v{proposed.pk}-comment": "We do not want agents to read health data."},
    )
    assert rejected.status_code == 302
    proposed.refresh_from_db()
    assert proposed.status == "draft"
    assert "We do not want agents to read health data." in proposed.rejection_reason
    assert ClientComment.objects.get(version=proposed).author == acme_admin

    # The DPO sees it, in the workspace and on the version.
    dpo = User.objects.get(username="dpo")
    workspace = admin_for(dpo, None).get("/admin/dpo/").content.decode()
    assert "We do not want agents to read health data." in workspace
    change = admin_for(dpo, None).get(f"/admin/agreements/agreementversion/{proposed.pk}/change/").content.decode()
    assert "We do not want agents to read health data." in change

    again = client.post(f"/agreement/versions/{proposed.pk}/sign/", follow=True)
    assert "not waiting for your signature" in again.content.decode()


def test_objection_in_the_window_is_recorded_for_the_dpo(client_for, admin_for, acme_admin, proposed):
    sub = _new_sub(proposed)
    client = client_for("acme.localhost", acme_admin)
    assert f"Object to {sub.name}" in client.get("/agreement/").content.decode()
    response = client.post(
        f"/agreement/sub-processors/{sub.pk}/object/", {f"s{sub.pk}-reason": "Audio must not leave our processor."}
    )
    assert response.status_code == 302
    objection = SubProcessorObjection.objects.get(sub_processor=sub)
    assert (objection.raised_by, objection.reason) == (acme_admin, "Audio must not leave our processor.")
    assert "Objected by acme-admin" in client.get("/agreement/").content.decode()

    twice = client.post(
        f"/api/v1/sub-processors/{sub.pk}/objections/", {"reason": "Again"}, content_type="application/json"
    )
    assert twice.status_code == 400
    assert twice.json()["code"] == "already_objected"

    dpo = User.objects.get(username="dpo")
    assert "Audio must not leave our processor." in admin_for(dpo, None).get("/admin/dpo/").content.decode()
    listed = admin_for(dpo, None).get("/admin/agreements/subprocessorobjection/").content.decode()
    assert "Speechmatics Ltd" in listed


def test_no_objection_once_the_window_has_closed(client_for, acme, acme_admin):
    twilio = SubProcessor.objects.get(
        version__agreement__company=acme, version__status="active", name__startswith="Twilio"
    )
    assert twilio.objection_window_ends <= timezone.localdate()  # authorised 60 days ago, 30-day window
    client = client_for("acme.localhost", acme_admin)
    assert "Object to Twilio" not in client.get("/agreement/").content.decode()
    refused = client.post(
        f"/api/v1/sub-processors/{twilio.pk}/objections/", {"reason": "Late"}, content_type="application/json"
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "window_closed"
    page = client.post(f"/agreement/sub-processors/{twilio.pk}/object/", {f"s{twilio.pk}-reason": "Late"}, follow=True)
    assert "objection window for Twilio Ireland Ltd closed" in page.content.decode()
    assert not SubProcessorObjection.objects.filter(sub_processor=twilio).exists()


def test_api_agreement_versions_sign_and_reject(client_for, acme_admin, proposed):
    client = client_for("acme.localhost", acme_admin)
    body = client.get("/api/v1/agreement/").json()
    assert body["active"]["number"] == 1
    assert body["active"]["in_force"] is True
    assert {"role": "agent", "category": "user.contact.name", "action": "read"} in body["active"]["grants"]
    assert [v["id"] for v in body["awaiting_signature"]] == [proposed.pk]
    new_sub = next(s for s in body["awaiting_signature"][0]["sub_processors"] if s["name"] == "Speechmatics Ltd")
    assert new_sub["objection_window_open"] is True

    versions = client.get("/api/v1/agreement/versions/").json()["results"]
    assert [v["number"] for v in versions] == [2, 1]
    assert client.get(f"/api/v1/agreement/versions/{proposed.pk}/").json()["status"] == "submitted"

    signed = client.post(f"/api/v1/agreement/versions/{proposed.pk}/sign/")
    assert signed.status_code == 200
    assert signed.json()["client_signed_by"] == "acme-admin"

    no_reason = client.post(f"/api/v1/agreement/versions/{proposed.pk}/reject/", {}, content_type="application/json")
    assert no_reason.status_code == 400
    assert "comment" in no_reason.json()
    rejected = client.post(
        f"/api/v1/agreement/versions/{proposed.pk}/reject/",
        {"comment": "Not health data"},
        content_type="application/json",
    )
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "draft"
    assert rejected.json()["client_signed_at"] is None
    assert rejected.json()["client_comments"][0]["comment"] == "Not health data"

    active_id = client.get("/api/v1/agreement/").json()["active"]["id"]
    assert (
        client.post(
            f"/api/v1/agreement/versions/{active_id}/reject/", {"comment": "x"}, content_type="application/json"
        ).status_code
        == 400
    )

    subs = client.get("/api/v1/sub-processors/").json()["results"]
    # The rejected draft's are not current.
    assert {s["name"] for s in subs} == {"Twilio Ireland Ltd", "Demo Mail OÜ"}
    assert next(s for s in subs if s["name"] == "Twilio Ireland Ltd")["services"] == ["voice", "sms"]


def test_a_member_reads_but_cannot_sign_reject_or_object(client_for, acme_member, proposed):
    client = client_for("acme.localhost", acme_member)
    page = client.get("/agreement/").content.decode()
    assert "Speechmatics Ltd" in page
    assert "Sign version" not in page
    assert "client admins sign or reject" in page
    sub = _new_sub(proposed)
    assert client.post(f"/agreement/versions/{proposed.pk}/sign/").status_code == 404
    assert client.post(f"/agreement/sub-processors/{sub.pk}/object/", {f"s{sub.pk}-reason": "x"}).status_code == 404
    assert client.post(f"/api/v1/agreement/versions/{proposed.pk}/sign/").status_code == 403
    assert (
        client.post(
            f"/api/v1/sub-processors/{sub.pk}/objections/", {"reason": "x"}, content_type="application/json"
        ).status_code
        == 403
    )
    assert client.get("/api/v1/agreement/").status_code == 200
    proposed.refresh_from_db()
    assert proposed.client_signed_at is None
    assert not SubProcessorObjection.objects.exists()


def test_globex_cannot_reach_acmes_agreement(client_for, globex_admin, proposed):
    sub = _new_sub(proposed)
    client = client_for("globex.localhost", globex_admin)
    for path in [f"/api/v1/agreement/versions/{proposed.pk}/"]:
        assert client.get(path).status_code == 404
    version_paths = [
        f"{prefix}/agreement/versions/{proposed.pk}/{action}/"
        for prefix in ["", "/api/v1"]
        for action in ["sign", "reject"]
    ]
    for path in [
        *version_paths,
        f"/api/v1/sub-processors/{sub.pk}/objections/",
        f"/agreement/sub-processors/{sub.pk}/object/",
    ]:
        assert client.post(path, {"comment": "x", "reason": "x"}, content_type="application/json").status_code == 404
    proposed.refresh_from_db()
    assert proposed.client_signed_at is None
    assert proposed.status == "submitted"
    assert not SubProcessorObjection.objects.exists()

    page = client.get("/agreement/").content.decode()
    assert "Speechmatics" not in page
    assert "Acme" not in page
    body = client.get("/api/v1/agreement/").json()
    assert body["awaiting_signature"] == []
    assert "Acme" not in str(body)
    ids = {v["id"] for v in client.get("/api/v1/agreement/versions/").json()["results"]}
    assert proposed.pk not in ids
    assert all(s["id"] != sub.pk for s in client.get("/api/v1/sub-processors/").json()["results"])
    assert client_for("acme.localhost", globex_admin).get("/api/v1/agreement/").status_code == 404


def test_the_service_refuses_someone_who_is_not_the_companys_admin(proposed, globex_admin):
    from tenants.errors import ApplicationError

    with pytest.raises(ApplicationError):
        dpa.dpa_reject_for_client(version=proposed, actor=globex_admin, comment="not mine")
    with pytest.raises(ApplicationError):
        dpa.sub_processor_object(sub_processor=_new_sub(proposed), actor=globex_admin, reason="not mine")
    with pytest.raises(ApplicationError):
        dpa.sub_processor_object(
            sub_processor=_new_sub(proposed),
            actor=User.objects.get(username="acme-admin"),
            reason="too early",
            today=timezone.localdate() - dt.timedelta(days=1),
        )


@pytest.fixture
def plain(acme, drafter):
    """Version 2 of acme's DPA, submitted: a copy of the one in force (no special category, so the
    DPO may approve it without an impact assessment)."""
    active = AgreementVersion.objects.get(agreement__company=acme, status="active")
    return dpa.dpa_submit(version=dpa.dpa_draft_create(company=acme, actor=drafter, copy_from=active), actor=drafter)


def test_once_signed_there_is_nothing_left_to_sign(client_for, acme_admin, plain):
    client = client_for("acme.localhost", acme_admin)
    assert f"Sign version {plain.number}" in client.get("/agreement/").content.decode()
    client.post(f"/agreement/versions/{plain.pk}/sign/")
    page = client.get("/agreement/").content.decode()
    assert "Sign version" not in page
    assert "Sign again" not in page
    assert "Signed by the client: waiting for the DPO&#x27;s approval" in page
    assert "Reject, with this comment" in page  # still the client's to reject while the DPO reviews


def test_each_step_says_what_happens_next_until_the_dpo_activates(client_for, admin_for, acme_admin, plain):
    """Approve, sign (either order), then Activate: after the approval the status no longer reads
    as if the version were still under review, on the client's screen and the DPO's."""
    dpo = admin_for(User.objects.get(username="dpo"))
    decide = f"/admin/agreements/agreementversion/{plain.pk}/decide/"
    approved = dpo.post(decide, {"decision": "approve"}, follow=True).content.decode()
    assert "Now: Approved by the DPO: waiting for the client&#x27;s signature." in approved
    portal = client_for("acme.localhost", acme_admin)
    assert "Approved by the DPO: waiting for the client&#x27;s signature" in portal.get("/agreement/").content.decode()

    portal.post(f"/agreement/versions/{plain.pk}/sign/")
    assert "Approved and signed: the DPO activates it next" in portal.get("/agreement/").content.decode()
    assert "Approved and signed: the DPO activates it next" in dpo.get("/admin/dpo/").content.decode()
    plain.refresh_from_db()
    assert plain.status == "under_review"  # not in force until the DPO chooses Activate

    dpo.post(decide, {"decision": "activate"})
    plain.refresh_from_db()
    assert plain.status == "active"
    assert plain.stage_display() == "Active"


def test_the_stage_is_translated(client_for, acme_admin, plain):
    client = client_for("acme.localhost", acme_admin)
    client.cookies["django_language"] = "et"
    client.post(f"/agreement/versions/{plain.pk}/sign/")
    page = client.get("/agreement/").content.decode()
    assert "Klient allkirjastas: ootab andmekaitseametniku heakskiitu" in page
    assert "Pakutud versioonid" in page
