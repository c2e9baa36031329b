"""E-mail alerts: each kind goes to the DPO and the company's supervisors once, carries ids, the
company's slug and deadlines only, and reaches no supervisor of another company."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import DeliveryAttempt, DeliveryRoute, Line, Message, WebhookEndpoint
from audit.models import DataSubjectRequest, RetentionRun
from compliance.agreements.models import AgreementVersion
from compliance.incidents.services import incident_record
from operations.monitoring.alerts import alerts_sweep
from operations.monitoring.models import AlertSent, JobRun
from tenants.models import Assignment, User

CALLER = ("Mari Tamm", "+37251234501", "mari.tamm@example.ee")  # from the demo seed


@pytest.fixture
def staff_mail(db, globex):
    """The DPO and acme's supervisor get alerts; a supervisor of globex only must not get acme's."""
    User.objects.filter(username="dpo").update(email="dpo@provider.example")
    User.objects.filter(username="supervisor").update(email="supervisor@provider.example")
    other = User.objects.create(
        username="globex-supervisor",
        provider_role=User.ProviderRole.SUPERVISOR,
        is_staff=True,
        email="globex-supervisor@provider.example",
    )
    Assignment.objects.create(user=other, company=globex)
    return {"dpo@provider.example", "supervisor@provider.example"}


def _only_alert(mailoutbox, recipients: set[str]):
    assert len(mailoutbox) == 1, [m.subject for m in mailoutbox]
    mail = mailoutbox[0]
    assert set(mail.to) == recipients
    text = mail.subject + mail.body
    for personal in CALLER:
        assert personal not in text
    return mail


def _message(**fields) -> Message:
    line = Line.objects.get(phone_number="+3726001001")
    return Message.objects.create(
        line=line,
        caller_name=CALLER[0],
        caller_number=CALLER[1],
        body=f"Please call {CALLER[0]} at {CALLER[2]}",
        **fields,
    )


def test_a_dead_lettered_webhook_is_alerted_once(staff_mail, acme, mailoutbox):
    with tenant_context(acme):
        message = _message()
        hook = WebhookEndpoint.objects.create(url="https://hooks.acme.example/in", secret="s")
        attempt = DeliveryAttempt.objects.create(
            message=message,
            webhook=hook,
            channel=DeliveryAttempt.Channel.WEBHOOK,
            key=f"{message.pk}:webhook:{hook.pk}:6",
            status=DeliveryAttempt.Status.DEAD_LETTER,
            error=f"refused for {CALLER[1]}",
        )

    assert alerts_sweep() == 1
    mail = _only_alert(mailoutbox, staff_mail)
    assert f"message #{message.pk}" in mail.subject
    assert mail.subject.startswith("[Vastaja acme] ")
    assert "Company: acme" in mail.body
    assert f"#{attempt.pk}" in mail.body
    assert AlertSent.objects.filter(kind="delivery_dead_letter", company="acme").count() == 1

    assert alerts_sweep() == 0  # not re-sent by the next sweep
    assert len(mailoutbox) == 1


def test_a_message_given_up_on_is_alerted(staff_mail, acme, mailoutbox):
    with tenant_context(acme):
        message = _message(status=Message.Status.FAILED)
    assert alerts_sweep() == 1
    assert f"Message #{message.pk}" in _only_alert(mailoutbox, staff_mail).subject


def test_a_message_still_pending_past_its_deadline_is_alerted_whatever_held_it(staff_mail, acme, mailoutbox, settings):
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001001")
        DeliveryRoute.objects.create(line=line, channel="email", address="desk@acme.example")
        on_time = _message()
        late = _message()
        Message.objects.filter(pk=late.pk).update(
            created_at=timezone.now() - dt.timedelta(minutes=settings.DELIVERY_DEADLINE_MINUTES + 1)
        )
    assert alerts_sweep() == 1
    alert = _only_alert(mailoutbox, staff_mail)
    assert f"Message #{late.pk}" in alert.subject
    assert f"still pending after {settings.DELIVERY_DEADLINE_MINUTES} minutes" in alert.body
    assert f"#{on_time.pk}" not in alert.body


def test_a_failed_purge_is_alerted_but_a_running_one_is_not(staff_mail, acme, mailoutbox):
    now = timezone.now()
    with tenant_context(acme):
        running = RetentionRun.objects.create()
        died = RetentionRun.objects.create()
        RetentionRun.objects.filter(pk=died.pk).update(started_at=now - dt.timedelta(hours=2))
        RetentionRun.objects.create(dry_run=True)  # a dry run that did not finish purges nothing
        RetentionRun.objects.filter(dry_run=True).update(started_at=now - dt.timedelta(hours=2))
    assert alerts_sweep() == 1
    assert f"run #{died.pk} failed" in _only_alert(mailoutbox, staff_mail).subject

    # The worker records that the purge task raised: the run it left unfinished is failed at once.
    JobRun.objects.create(
        task="audit.retention_purge", schema_name="acme", last_failed_at=timezone.now(), last_error="OperationalError"
    )
    assert alerts_sweep() == 1
    assert f"run #{running.pk} failed" in mailoutbox[1].subject


def test_a_dpa_expiring_within_14_days_is_alerted(staff_mail, acme, mailoutbox):
    version = AgreementVersion.objects.get(agreement__company=acme, status=AgreementVersion.Status.ACTIVE)
    AgreementVersion.objects.filter(pk=version.pk).update(end_date=timezone.localdate() + dt.timedelta(days=10))
    assert alerts_sweep() == 1
    mail = _only_alert(mailoutbox, staff_mail)
    assert "acme" in mail.subject
    assert str(timezone.localdate() + dt.timedelta(days=10)) in mail.body
    assert "globex-supervisor@provider.example" not in mail.to

    # Extended, then close to its new end: a new alert for the new date.
    AgreementVersion.objects.filter(pk=version.pk).update(end_date=timezone.localdate() + dt.timedelta(days=13))
    assert alerts_sweep() == 1


def test_a_dpa_ending_later_is_not_alerted(staff_mail, acme, mailoutbox):
    AgreementVersion.objects.filter(agreement__company=acme, status=AgreementVersion.Status.ACTIVE).update(
        end_date=timezone.localdate() + dt.timedelta(days=15)
    )
    assert alerts_sweep() == 0
    assert mailoutbox == []


def test_a_dsar_due_within_3_days_is_alerted_without_the_persons_identifiers(staff_mail, acme, mailoutbox):
    dpo = User.objects.get(username="dpo")
    now = timezone.now()
    with tenant_context(acme):
        soon = DataSubjectRequest.objects.create(
            kind="access", phone_number=CALLER[1], email=CALLER[2], raised_by=dpo, due_at=now + dt.timedelta(days=2)
        )
        DataSubjectRequest.objects.create(
            kind="erasure", phone_number=CALLER[1], raised_by=dpo, due_at=now + dt.timedelta(days=10)
        )
        DataSubjectRequest.objects.create(
            kind="access", email=CALLER[2], raised_by=dpo, status="done", due_at=now + dt.timedelta(days=1)
        )
    assert alerts_sweep() == 1
    mail = _only_alert(mailoutbox, staff_mail)
    assert f"request #{soon.pk}" in mail.subject
    assert alerts_sweep() == 0


def test_an_incident_deadline_within_12_hours_is_alerted(staff_mail, acme, globex, mailoutbox):
    dpo = User.objects.get(username="dpo")
    # acme's DPA gives 24 hours, globex's 36: detected 20 hours ago, only acme's deadline is near.
    incident = incident_record(
        title=f"Laptop with {CALLER[0]}'s file stolen",
        description="A laptop was stolen",
        detected_at=timezone.now() - dt.timedelta(hours=20),
        companies=[acme, globex],
        categories=["user.contact.name"],
        estimated_subjects=1,
        actor=dpo,
    )
    assert alerts_sweep() == 1
    mail = _only_alert(mailoutbox, staff_mail)
    assert f"Incident #{incident.pk}" in mail.subject
    assert "acme" in mail.subject
    assert "Laptop" not in mail.subject + mail.body  # the title may name people: never sent

    incident.affected.filter(company=acme).update(notified_at=timezone.now())
    AlertSent.objects.all().delete()
    assert alerts_sweep() == 0  # notified in time: nothing to alert


def test_without_staff_addresses_the_operators_are_told(acme, mailoutbox):
    User.objects.filter(provider_role__in=["dpo", "supervisor"]).update(email="")
    with tenant_context(acme):
        _message(status=Message.Status.FAILED)
    with override_settings(ADMINS=[("Ops", "ops@provider.example")]):
        assert alerts_sweep() == 1
    assert mailoutbox[0].to == ["ops@provider.example"]


def test_an_alert_that_could_not_be_mailed_is_tried_again(staff_mail, acme, mailoutbox):
    with tenant_context(acme):
        _message(status=Message.Status.FAILED)
    # A real SMTP connection to a closed port: the send fails, nothing is recorded.
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=1,
        EMAIL_TIMEOUT=2,
    ):
        assert alerts_sweep() == 0
    assert not AlertSent.objects.exists()
    assert alerts_sweep() == 1
    assert len(mailoutbox) == 1


def test_beat_runs_the_sweep_and_the_heartbeat_in_public():
    tasks = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks["monitoring.alerts_sweep"]["tenant_schemas"] == ["public"]
    assert tasks["monitoring.heartbeat"]["tenant_schemas"] == ["public"]
