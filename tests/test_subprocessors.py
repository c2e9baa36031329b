"""Sub-processors enforced in code (issue 22), from the side of the company that did not authorise.

The demo's DPAs: Twilio for voice everywhere and for SMS at acme and initech (globex's names no SMS
sub-processor); the demo's e-mail provider at acme and globex (initech's names none; initech has no
DPA in force at all). Sends go to local stand-ins for Twilio and for SMTP, which count what they
receive: a refused send must reach neither, and raw SQL must find no trace of the person's number
or address in what the refusal wrote.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import DeliveryAttempt, DeliveryRoute, Line, Message
from answering.services.escalation import escalation_send
from answering.tasks import deliver_message, send_escalation
from answering.telephony import NO_VOICEMAIL, inbound_voice
from audit.models import AccessLogEntry, SubProcessorUse
from compliance.agreements import services as dpa
from compliance.agreements import subprocessors
from compliance.agreements.models import AgreementVersion, SubProcessor, SubProcessorObjection
from scheduling.models import OnCallShift, StaffMember
from tenants.models import User

pytestmark = pytest.mark.django_db

SID, TOKEN = "AC" + "2" * 32, "standin-token-22"
ON_CALL_NUMBER = "+37255512345"
ON_CALL_EMAIL = "oncall.lawyer@globex.example"
LINES = {"acme": "+3726001001", "globex": "+3726002001", "initech": "+3726003001"}


@pytest.fixture
def standins(settings):
    """Twilio's REST API and an SMTP server, local, each counting what it receives."""
    from demo.twilio_standin import TwilioStandIn
    from tests.smtp_standin import SmtpStandIn

    with TwilioStandIn(SID, TOKEN) as twilio, SmtpStandIn() as smtp:
        settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = SID, TOKEN
        settings.TWILIO_FROM_NUMBER, settings.TWILIO_API_BASE = "+3725550000", twilio.base_url
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = smtp.host, smtp.port
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_TIMEOUT = 5
        yield SimpleNamespace(twilio=twilio, smtp=smtp)
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def _urgent(slug: str, *, phone: str = "", email: str = "") -> tuple[Message, StaffMember]:
    """In the current company: a person on call for its line now, and an urgent message waiting."""
    line = Line.objects.get(phone_number=LINES[slug])
    person = StaffMember.objects.create(name="Adv. Lepp", phone_number=phone, email=email)
    now = timezone.now()
    OnCallShift.objects.create(
        line=line, staff=person, starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=8)
    )
    message = Message.objects.create(
        line=line, urgency=Message.Urgency.URGENT, caller_name="Jaan Kask", caller_number="+37251234502", body="Bail"
    )
    return message, person


def _rows_mentioning(value: str) -> list[str]:
    """Raw SQL over the tables a refusal writes in the current schema: any row holding `value`."""
    found = []
    with connection.cursor() as cursor:
        for table in ("answering_deliveryattempt", "audit_accesslogentry", "audit_subprocessoruse"):
            cursor.execute(f"SELECT row_to_json(t)::text FROM {table} AS t")  # the table names are fixed above
            found += [row for (row,) in cursor.fetchall() if value in row]
    return found


# ---- SMS: globex's DPA names none -------------------------------------------------------------


def test_a_globex_escalation_by_sms_sends_nothing_and_the_message_shows_why(
    globex, standins, client_for, globex_admin, admin_for
):
    with tenant_context(globex):
        message, person = _urgent("globex", phone=ON_CALL_NUMBER)
        assert send_escalation.apply(args=[message.pk, person.pk, 1]).get() == DeliveryAttempt.Status.REFUSED
        attempt = DeliveryAttempt.objects.get(message=message, escalation_level=1)
        refusal = AccessLogEntry.objects.get(channel=AccessLogEntry.Channel.SUBPROCESSOR)
        use = SubProcessorUse.objects.get()
        leaks = _rows_mentioning(ON_CALL_NUMBER)
        with connection.cursor() as cursor:
            cursor.execute("SELECT provider_id, status FROM answering_deliveryattempt WHERE id = %s", [attempt.pk])
            provider_id, status = cursor.fetchone()
    assert standins.twilio.messages == []
    assert standins.smtp.messages == []
    assert (provider_id, status) == ("", "refused")  # nothing was handed to any provider
    assert leaks == []
    assert "no sub-processor is named for SMS (Twilio Ireland Ltd is named for telephony only)" in attempt.error
    assert (refusal.refused, refusal.object_type, refusal.fields) == (True, "scheduling.StaffMember", ["phone_number"])
    assert refusal.path.startswith("twilio_sms (Twilio Ireland Ltd), refused: DPA v1:")
    assert (use.integration, use.allowed, use.kind) == ("twilio_sms", False, "not_named")
    # The client reads why in the portal; the message is still there, to read and acknowledge.
    page = client_for("globex.localhost", globex_admin).get(f"/messages/{message.pk}/").content.decode()
    assert "not sent" in page
    assert "no sub-processor is named for SMS" in page
    assert "Bail" in page
    # So does the agent, in the admin's delivery history of the message.
    agent = admin_for(User.objects.get(username="agent1"), "globex")
    change = agent.get(f"/admin/answering/message/{message.pk}/change/").content.decode()
    assert "no sub-processor is named for SMS" in change
    # And the client's access log lists the refusal on its own channel.
    log = client_for("globex.localhost", globex_admin).get("/access-log/").content.decode()
    assert "A send to a sub-processor the DPA does not authorise" in log


def test_a_globex_escalation_falls_back_to_e_mail_which_its_dpa_names(globex, standins):
    with tenant_context(globex):
        message, person = _urgent("globex", phone=ON_CALL_NUMBER, email=ON_CALL_EMAIL)
        assert escalation_send(message_id=message.pk, staff_id=person.pk, level=1) == DeliveryAttempt.Status.SENT
        attempt = DeliveryAttempt.objects.get(message=message, escalation_level=1)
        uses = sorted(SubProcessorUse.objects.values_list("integration", "allowed"))
    assert standins.twilio.messages == []
    assert [m["to"] for m in standins.smtp.messages] == [[ON_CALL_EMAIL]]
    assert attempt.channel == DeliveryAttempt.Channel.EMAIL
    assert uses == [("email", True), ("twilio_sms", False)]


def test_an_acme_escalation_by_sms_goes(acme, standins):
    with tenant_context(acme):
        message, person = _urgent("acme", phone=ON_CALL_NUMBER)
        assert escalation_send(message_id=message.pk, staff_id=person.pk, level=1) == DeliveryAttempt.Status.SENT
    assert [m["to"] for m in standins.twilio.messages] == [ON_CALL_NUMBER]
    assert "Jaan Kask" not in standins.twilio.messages[0]["body"]  # a pointer, no caller data


# ---- objections and windows ------------------------------------------------------------------


def _acme_twilio() -> SubProcessor:
    return SubProcessor.objects.get(version__agreement__company__schema_name="acme", name="Twilio Ireland Ltd")


def test_a_sub_processor_under_objection_is_refused_until_the_objection_is_resolved(acme, acme_admin, standins):
    dpo = User.objects.get(username="dpo")
    # Raised while its window was open (the service refuses one now that it has closed).
    objection = SubProcessorObjection.objects.create(
        sub_processor=_acme_twilio(), reason="Not outside Estonia", raised_by=acme_admin
    )
    with tenant_context(acme):
        first, person = _urgent("acme", phone=ON_CALL_NUMBER)
        assert escalation_send(message_id=first.pk, staff_id=person.pk, level=1) == DeliveryAttempt.Status.REFUSED
        refused = DeliveryAttempt.objects.get(message=first).error
        assert _rows_mentioning(ON_CALL_NUMBER) == []
    assert standins.twilio.messages == []
    assert "objected to Twilio Ireland Ltd" in refused
    assert "the objection is open" in refused

    dpa.sub_processor_objection_resolve(objection=objection, actor=dpo, resolution="Withdrawn after our answer")
    with tenant_context(acme):
        second = Message.objects.create(line=first.line, urgency=Message.Urgency.URGENT, body="Again")
        assert escalation_send(message_id=second.pk, staff_id=person.pk, level=1) == DeliveryAttempt.Status.SENT
    assert [m["to"] for m in standins.twilio.messages] == [ON_CALL_NUMBER]


def _acme_v2_with_new_email_provider(*, authorised_on: dt.date) -> AgreementVersion:
    """acme's next version, in force: the e-mail provider re-authorised on `authorised_on` (as a
    newly engaged one would be), its 30-day objection window running from then."""
    acme = _acme_twilio().version.agreement.company
    active = AgreementVersion.objects.get(agreement__company=acme, status="active")
    drafter, dpo = User.objects.get(username="provider-admin"), User.objects.get(username="dpo")
    admin = User.objects.get(username="acme-admin")
    version = dpa.dpa_draft_create(company=acme, actor=drafter, copy_from=active)
    version.sub_processors.filter(name="Demo Mail OÜ").update(authorised_on=authorised_on)
    dpa.dpa_submit(version=version, actor=drafter)
    dpa.dpa_sign_for_client(version=version, actor=admin)
    dpa.dpa_review_start(version=version, actor=dpo)
    dpa.dpa_approve(version=version, actor=dpo)
    return dpa.dpa_activate(version=version, actor=dpo)


def test_a_sub_processor_inside_its_objection_window_is_refused_until_the_window_has_passed(
    acme, standins, monkeypatch
):
    today = subprocessors.company_today(acme)
    _acme_v2_with_new_email_provider(authorised_on=today)
    with tenant_context(acme):
        message, person = _urgent("acme", email="dr.mets@acme.example")
        assert escalation_send(message_id=message.pk, staff_id=person.pk, level=1) == DeliveryAttempt.Status.REFUSED
        error = DeliveryAttempt.objects.get(message=message).error
    assert standins.smtp.messages == []
    assert "inside its objection window" in error

    # The last day of the window, on acme's own calendar: still refused. The day it closes: it goes.
    closes = today + dt.timedelta(days=30)
    monkeypatch.setattr(subprocessors, "company_today", lambda company, now=None: closes - dt.timedelta(days=1))
    with tenant_context(acme):
        assert escalation_send(message_id=message.pk, staff_id=person.pk, level=2) == DeliveryAttempt.Status.REFUSED
    monkeypatch.setattr(subprocessors, "company_today", lambda company, now=None: closes)
    with tenant_context(acme):
        assert escalation_send(message_id=message.pk, staff_id=person.pk, level=3) == DeliveryAttempt.Status.SENT
    assert [m["to"] for m in standins.smtp.messages] == [["dr.mets@acme.example"]]


# ---- nothing cached: the next send after a change ---------------------------------------------


def test_a_change_to_the_dpa_applies_on_the_very_next_send(acme, standins):
    dpo = User.objects.get(username="dpo")
    with tenant_context(acme):
        line = Line.objects.get(phone_number=LINES["acme"])
        DeliveryRoute.objects.create(line=line, channel=DeliveryRoute.Channel.SMS, address="+37255520000")
        before = Message.objects.create(line=line, caller_name="Mari Tamm", body="Call me")
        after = Message.objects.create(line=line, caller_name="Liis Saar", body="Call me too")
        assert deliver_message.apply(args=[before.pk]).get() == ["sms"]
    assert len(standins.twilio.messages) == 1

    active = AgreementVersion.objects.get(agreement__company=acme, status="active")
    dpa.dpa_terminate(version=active, actor=dpo, reason="the client ended the contract")
    with tenant_context(acme):
        assert deliver_message.apply(args=[after.pk]).get() == []
        after.refresh_from_db()
        attempt = DeliveryAttempt.objects.get(message=after)
        leaks = _rows_mentioning("+37255520000") + _rows_mentioning("Liis Saar")
    assert len(standins.twilio.messages) == 1  # the second one never left
    assert after.status == Message.Status.FAILED
    assert attempt.status == DeliveryAttempt.Status.REFUSED
    assert "has no DPA in force" in attempt.error
    assert leaks == []


# ---- region and categories ----------------------------------------------------------------------


def test_a_provider_outside_the_regions_the_dpa_allows_is_refused(acme, standins, settings):
    settings.TWILIO_REGION = "US"
    with tenant_context(acme):
        message, person = _urgent("acme", phone=ON_CALL_NUMBER)
        assert escalation_send(message_id=message.pk, staff_id=person.pk, level=1) == DeliveryAttempt.Status.REFUSED
        error = DeliveryAttempt.objects.get(message=message).error
        kind = SubProcessorUse.objects.get().kind
    assert standins.twilio.messages == []
    assert kind == "region"
    assert "processes in US; allowed: EEA" in error


def test_only_the_categories_the_dpa_lets_the_provider_receive_are_sent(acme, standins):
    SubProcessor.objects.filter(pk=_acme_twilio().pk).update(categories=["user.contact.phone_number"])
    with tenant_context(acme):
        line = Line.objects.get(phone_number=LINES["acme"])
        DeliveryRoute.objects.create(line=line, channel="sms", address="+37255520001")
        DeliveryRoute.objects.create(
            line=line,
            channel="sms",
            address="+37255520002",
            include_caller_name=False,
            include_body=False,
        )
        message = Message.objects.create(
            line=line, caller_name="Mari Tamm", caller_number="+37251234501", body="Toothache"
        )
        assert deliver_message.apply(args=[message.pk]).get() == ["sms"]
        errors = list(DeliveryAttempt.objects.filter(status="refused").values_list("error", flat=True))
    assert [m["to"] for m in standins.twilio.messages] == ["+37255520002"]
    assert "Toothache" not in standins.twilio.messages[0]["body"]
    assert errors == ["Not sent: DPA v1: Twilio Ireland Ltd may not receive user.contact.name, user.content.private"]


# ---- delivery by routes: fall back, or undeliverable with the reason -------------------------------


def test_a_globex_message_goes_by_e_mail_and_not_by_sms(globex, standins):
    with tenant_context(globex):
        line = Line.objects.get(phone_number=LINES["globex"])
        DeliveryRoute.objects.create(line=line, channel="sms", address="+37255530000")
        DeliveryRoute.objects.create(line=line, channel="email", address="desk@globex.example")
        message = Message.objects.create(line=line, caller_name="Peeter Mets", body="Court date")
        assert deliver_message.apply(args=[message.pk]).get() == ["email"]
        message.refresh_from_db()
        leaks = _rows_mentioning("+37255530000")
    assert standins.twilio.messages == []
    assert [m["to"] for m in standins.smtp.messages] == [["desk@globex.example"]]
    assert message.status == Message.Status.SENT
    assert leaks == []


def test_an_initech_message_no_provider_may_carry_is_undeliverable_and_kept_with_the_reason(
    initech, standins, client_for
):
    with tenant_context(initech):
        line = Line.objects.get(phone_number=LINES["initech"])
        DeliveryRoute.objects.create(line=line, channel="sms", address="+37255540000")
        DeliveryRoute.objects.create(line=line, channel="email", address="support@initech.example")
        message = Message.objects.create(line=line, caller_name="Liis Saar", body="Server down")
        assert deliver_message.apply(args=[message.pk]).get() == []
        message.refresh_from_db()
        errors = set(DeliveryAttempt.objects.filter(message=message).values_list("error", flat=True))
        leaks = _rows_mentioning("+37255540000") + _rows_mentioning("support@initech.example")
    assert standins.twilio.messages == []
    assert standins.smtp.messages == []
    assert message.status == Message.Status.FAILED
    assert errors == {"Not sent: Initech Software has no DPA in force"}
    assert leaks == []
    page = client_for("initech.localhost", User.objects.get(username="initech-admin"))
    html = page.get(f"/messages/{message.pk}/").content.decode()
    assert "Server down" in html
    assert "Initech Software has no DPA in force" in html


# ---- voice ---------------------------------------------------------------------------------------

SUNDAY_NIGHT = dt.datetime(2026, 12, 6, 1, 0, tzinfo=dt.UTC)  # closed everywhere


def test_initech_gets_no_voicemail_recorded_without_a_dpa_naming_twilio_in_force(initech):
    with tenant_context(initech):
        twiml = inbound_voice(
            params={"To": LINES["initech"], "From": "+37251234501", "CallSid": "CA" + "9" * 32},
            callback_base="https://initech.localhost/telephony/",
            now=SUNDAY_NIGHT,
        )
        refused = SubProcessorUse.objects.get()
    assert NO_VOICEMAIL in twiml
    assert "<Record" not in twiml
    assert (refused.integration, refused.kind) == ("twilio_voice", "no_dpa")


def test_acme_forwards_to_the_person_on_call_only_while_twilio_may_process_in_its_region(acme, settings):
    with tenant_context(acme):
        line = Line.objects.get(phone_number=LINES["acme"])
        line.after_hours = Line.AfterHours.FORWARD_ONCALL
        line.save(update_fields=["after_hours"])
        person = StaffMember.objects.create(name="Dr Mets", phone_number=ON_CALL_NUMBER)
        OnCallShift.objects.create(
            line=line,
            staff=person,
            starts_at=SUNDAY_NIGHT - dt.timedelta(hours=2),
            ends_at=SUNDAY_NIGHT + dt.timedelta(hours=2),
        )
        params = {"To": LINES["acme"], "From": "+37251234501"}
        allowed = inbound_voice(params={**params, "CallSid": "CA" + "7" * 32}, callback_base="/t/", now=SUNDAY_NIGHT)
        settings.TWILIO_REGION = "US"
        refused = inbound_voice(params={**params, "CallSid": "CA" + "8" * 32}, callback_base="/t/", now=SUNDAY_NIGHT)
    assert f'<Dial timeout="25">{ON_CALL_NUMBER}</Dial>' in allowed
    assert ON_CALL_NUMBER not in refused
    assert NO_VOICEMAIL in refused


# ---- /metrics, alerts, the DPO's workspace, RoPA and the evidence pack -----------------------------


def test_refusals_are_counted_in_metrics_and_alerted_to_the_dpo_and_supervisors(
    globex, client_for, settings, mailoutbox
):
    from operations.monitoring.alerts import alerts_sweep

    with tenant_context(globex):
        message, person = _urgent("globex", phone=ON_CALL_NUMBER)
        escalation_send(message_id=message.pk, staff_id=person.pk, level=1)
    text = client_for("localhost").get("/metrics").content.decode()
    assert 'vastaja_subprocessor_refusals_total{channel="twilio_sms",kind="not_named",tenant="globex"} 1.0' in text
    assert 'vastaja_subprocessor_sends_total{channel="twilio_sms",tenant="globex"} 0.0' in text
    assert alerts_sweep() >= 1
    alert = next(m for m in mailoutbox if "refused" in m.subject and "globex" in m.subject)
    assert {"dpo@provider.example", "supervisor@provider.example"} <= set(alert.to)
    assert "no sub-processor is named for SMS" in alert.body
    assert ON_CALL_NUMBER not in alert.body


def test_the_dpo_sees_each_integration_in_use_and_is_warned_before_approving_a_version_that_drops_one(
    acme, globex, admin_for
):
    dpo = User.objects.get(username="dpo")
    for company in (acme, globex):
        with tenant_context(company):
            line = Line.objects.get(phone_number=LINES[company.schema_name])
            DeliveryRoute.objects.create(line=line, channel="sms", address="+37255550000")
    workspace = admin_for(dpo, None).get("/admin/dpo/").content.decode()
    rows = workspace.split("Integrations in use, by company")[1].split("</table>")[0]
    acme_sms = next(r for r in rows.split("<tr>") if "Acme Dental Clinic" in r and "SMS (Twilio)" in r)
    globex_sms = next(r for r in rows.split("<tr>") if "Globex Law Firm" in r and "SMS (Twilio)" in r)
    assert "<td>authorised</td>" in acme_sms
    assert "not authorised" in globex_sms
    assert "no sub-processor is named for SMS" in globex_sms

    # acme's next version names Twilio for voice only: approving it warns that SMS is in use.
    active = AgreementVersion.objects.get(agreement__company=acme, status="active")
    drafter = User.objects.get(username="provider-admin")
    version = dpa.dpa_draft_create(company=acme, actor=drafter, copy_from=active)
    version.sub_processors.filter(name="Twilio Ireland Ltd").update(services=["voice"])
    dpa.dpa_submit(version=version, actor=drafter)
    client = admin_for(dpo, None)
    decide = client.get(f"/admin/agreements/agreementversion/{version.pk}/decide/").content.decode()
    assert "Approving this version would stop sends still in use" in decide
    response = client.post(
        f"/admin/agreements/agreementversion/{version.pk}/decide/", {"decision": "approve"}, follow=True
    )
    shown = [str(m) for m in response.context["messages"]]
    version.refresh_from_db()
    assert version.approved_at is not None  # approved all the same
    warnings = [m for m in shown if m.startswith("Warning: SMS (Twilio) is in use")]
    assert len(warnings) == 1
    assert "no sub-processor is named for SMS" in warnings[0]


def test_the_ropa_and_the_evidence_pack_list_the_sub_processors_used_with_their_sends(
    acme, globex, acme_admin, standins, tmp_path
):
    from audit.evidence import evidence_pack_produce, evidence_pack_read

    with tenant_context(acme):
        message, person = _urgent("acme", phone=ON_CALL_NUMBER)
        escalation_send(message_id=message.pk, staff_id=person.pk, level=1)
    with tenant_context(globex):
        message, person = _urgent("globex", phone=ON_CALL_NUMBER)
        escalation_send(message_id=message.pk, staff_id=person.pk, level=1)
    call_command("export_ropa", "--out", str(tmp_path))
    records = {r["tenant"]: r for r in json.loads((tmp_path / "ropa.json").read_text())}
    acme_used = {u["integration"]: u for u in records["acme"]["sub_processors_used"]}
    globex_used = {u["integration"]: u for u in records["globex"]["sub_processors_used"]}
    assert (acme_used["twilio_sms"]["sends"], acme_used["twilio_sms"]["refused"]) == (1, 0)
    assert acme_used["twilio_sms"]["sub_processors"] == ["Twilio Ireland Ltd"]
    assert acme_used["twilio_sms"]["authorised_now"] is True
    assert (globex_used["twilio_sms"]["sends"], globex_used["twilio_sms"]["refused"]) == (0, 1)
    assert globex_used["twilio_sms"]["authorised_now"] is False
    assert "Twilio Ireland Ltd by twilio_sms: 1 sent, 0 refused" in (tmp_path / "ropa.csv").read_text()

    with tenant_context(acme):
        pack = evidence_pack_produce(actor=acme_admin)
        archive = zipfile.ZipFile(io.BytesIO(evidence_pack_read(pack=pack, actor=acme_admin, channel="portal")))
    rows = list(csv.DictReader(io.StringIO(archive.read("sub_processors_used.csv").decode())))
    assert [(r["integration"], r["sub_processor"], r["sends"], r["refused"], r["authorised_now"]) for r in rows] == [
        ("twilio_sms", "Twilio Ireland Ltd", "1", "0", "yes")
    ]
    authorised = list(csv.DictReader(io.StringIO(archive.read("sub_processors.csv").decode())))
    assert {(r["name"], r["services"]) for r in authorised} == {
        ("Twilio Ireland Ltd", "voice sms"),
        ("Demo Mail OÜ", "email"),
    }
