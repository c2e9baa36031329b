"""/metrics: who may read it, that our counters and gauges follow the database, and that no label
or value carries personal data."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context
from prometheus_client.parser import text_string_to_metric_families

from answering.models import Call, DeliveryAttempt, Line, Message, WebhookEndpoint
from audit.models import DataSubjectRequest, RetentionRun
from compliance.agreements.models import AgreementVersion
from crm.models import Contact
from demo.world import CALLERS
from operations.monitoring import registry
from operations.monitoring.services import heartbeat_record
from tenants.models import User

TOKEN = "scrape-token-for-tests-0123456789"


@pytest.fixture
def scrape(db, client_for):
    def get(**headers) -> str:
        response = client_for("localhost").get("/metrics", **headers)
        assert response.status_code == 200, response.content
        return response.content.decode()

    return get


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of our own metrics."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.startswith("vastaja_"):
                out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def value(text: str, name: str, **labels) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


# ---- who may read it ---------------------------------------------------------------------------


@override_settings(METRICS_TOKEN=TOKEN)
def test_with_a_token_only_its_bearer_reads(db, client_for):
    client = client_for("localhost")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics").headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 401
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 200
    assert b"vastaja_calls_total" in response.content


def test_without_a_token_only_this_machine_reads(db, client_for):
    client = client_for("localhost")
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    with override_settings(PRODUCTION=True):
        assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403


def test_a_client_company_host_does_not_serve_metrics(client_for, acme, acme_admin):
    response = client_for("acme.localhost", acme_admin).get("/metrics")
    assert response.status_code == 404
    assert b"vastaja_" not in response.content


# ---- the numbers follow the database -----------------------------------------------------------


def test_counters_and_gauges_follow_the_database(scrape, acme, globex):
    before = scrape()
    with tenant_context(acme):
        calls = Call.objects.count()
        line = Line.objects.get(phone_number="+3726001001")
        Call.objects.create(line=line, telephony_sid="CA" + "9" * 32, started_at=timezone.now())
        message = Message.objects.create(line=line, escalation_level=2, status=Message.Status.FAILED)
        hook = WebhookEndpoint.objects.create(url="https://hooks.acme.example/in", secret="s")
        Status = DeliveryAttempt.Status
        for n, status in enumerate([Status.FAILED, Status.DEAD_LETTER, Status.SENT]):
            DeliveryAttempt.objects.create(
                message=message,
                webhook=hook,
                channel=DeliveryAttempt.Channel.WEBHOOK,
                status=status,
                key=f"{message.pk}:webhook:{hook.pk}:{n}",
            )
        RetentionRun.objects.create(finished_at=timezone.now(), report={"purged": {"call notes and caller details": 7}})
        RetentionRun.objects.create(
            dry_run=True, finished_at=timezone.now(), report={"purged": {"inactive contacts": 5}}
        )
        dpo = User.objects.get(username="dpo")
        DataSubjectRequest.objects.create(
            kind="access", email="someone@example.ee", raised_by=dpo, due_at=timezone.now() - dt.timedelta(days=1)
        )
    AgreementVersion.objects.filter(agreement__company=globex, status="active").update(
        end_date=timezone.localdate() + dt.timedelta(days=3)
    )
    after = scrape()

    assert value(after, "vastaja_calls_total", tenant="acme") == calls + 1
    assert value(after, "vastaja_calls_total", tenant="globex") == value(before, "vastaja_calls_total", tenant="globex")
    assert value(after, "vastaja_deliveries_failed_total", tenant="acme", channel="webhook") == (
        value(before, "vastaja_deliveries_failed_total", tenant="acme", channel="webhook") + 2
    )
    assert value(after, "vastaja_messages_undelivered", tenant="acme") == 1
    assert value(after, "vastaja_escalations_total", tenant="acme") == (
        value(before, "vastaja_escalations_total", tenant="acme") + 2
    )
    assert value(after, "vastaja_purge_runs_total", tenant="acme") == (
        value(before, "vastaja_purge_runs_total", tenant="acme") + 1
    )
    assert value(after, "vastaja_purged_rows_total", tenant="acme", kind="call notes and caller details") == (
        value(before, "vastaja_purged_rows_total", tenant="acme", kind="call notes and caller details") + 7
    )
    assert value(after, "vastaja_purged_rows_total", tenant="acme", kind="inactive contacts") == (
        value(before, "vastaja_purged_rows_total", tenant="acme", kind="inactive contacts")
    )  # dry runs purge nothing
    assert value(after, "vastaja_dsars_overdue", tenant="acme") == 1
    assert value(after, "vastaja_dsars_overdue", tenant="globex") == 0
    assert value(after, "vastaja_dpas_expiring", tenant="globex") == 1
    assert value(after, "vastaja_dpas_expiring", tenant="acme") == 0


def test_health_numbers_are_metrics_too(scrape):
    heartbeat_record(hostname="celery@worker-1", at=timezone.now() - dt.timedelta(seconds=42))
    text = scrape()
    assert 42 <= value(text, "vastaja_worker_heartbeat_age_seconds") < 60


def test_django_prometheus_request_metrics_are_served(scrape):
    text = scrape()
    assert "django_http_requests_before_middlewares_total" in text


# ---- no personal data --------------------------------------------------------------------------

PHONE_SHAPED = re.compile(r"\+\d{7,15}|\b\d{3}[ -]?\d{3}[ -]?\d{4}\b")
EMAIL_SHAPED = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def test_no_label_or_value_carries_personal_data(scrape, acme, globex, agent1):
    """The demo's callers, and more written here, are in every company; /metrics names none."""
    personal = {part for caller in CALLERS for part in caller}
    personal |= {"Anneli Kuusk", "+37255500123", "anneli.kuusk@example.ee", "Tartu mnt 5-12"}
    dpo = User.objects.get(username="dpo")
    for company in (acme, globex):
        with tenant_context(company):
            line = Line.objects.order_by("phone_number").first()
            contact = Contact.objects.create(
                name="Anneli Kuusk",
                phone_number="+37255500123",
                email="anneli.kuusk@example.ee",
                address="Tartu mnt 5-12",
            )
            call = Call.objects.create(
                line=line,
                telephony_sid=f"CA{company.schema_name}".ljust(34, "7"),
                started_at=timezone.now(),
                caller_number="+37255500123",
                caller_name="Anneli Kuusk",
                contact=contact,
            )
            message = Message.objects.create(
                line=line,
                call=call,
                caller_name="Anneli Kuusk",
                caller_number="+37255500123",
                status=Message.Status.FAILED,
                body="Call Anneli at +37255500123 or anneli.kuusk@example.ee",
            )
            hook = WebhookEndpoint.objects.create(url="https://hooks.example/anneli.kuusk@example.ee", secret="s")
            DeliveryAttempt.objects.create(
                message=message,
                webhook=hook,
                channel=DeliveryAttempt.Channel.WEBHOOK,
                status=DeliveryAttempt.Status.DEAD_LETTER,
                key=f"{message.pk}:webhook:{hook.pk}:6",
                error="550 anneli.kuusk@example.ee +37255500123",
            )
            DataSubjectRequest.objects.create(
                kind="access",
                phone_number="+37255500123",
                email="anneli.kuusk@example.ee",
                raised_by=dpo,
                due_at=timezone.now() - dt.timedelta(days=2),
            )
            RetentionRun.objects.create(finished_at=timezone.now(), report={"purged": {"inactive contacts": 1}})
    connection.set_schema_to_public()
    # Requests that name people in their paths and queries, so django-prometheus sees them too.
    from django.test import Client

    for host in ("localhost", "acme.localhost"):
        Client(HTTP_HOST=host).get("/admin/crm/contact/", {"q": "Anneli Kuusk +37255500123"})
    heartbeat_record(hostname="celery@worker-1")

    text = scrape()
    families = list(text_string_to_metric_families(text))
    assert any(f.name == "vastaja_calls" for f in families)  # the scan reads the real thing
    for secret in personal:
        assert secret not in text
        assert secret.replace("+", "") not in text
    assert PHONE_SHAPED.findall(text) == []
    assert EMAIL_SHAPED.findall(text) == []
    for family in families:
        for sample in family.samples:
            for label_value in sample.labels.values():
                assert not PHONE_SHAPED.search(label_value), (sample.name, label_value)
                assert "@" not in label_value, (sample.name, label_value)


# ---- the registry ------------------------------------------------------------------------------


@pytest.fixture
def temporary_metric():
    names = []

    def add(name, fn, **kwargs):
        kind = kwargs.pop("kind", "gauge")
        (registry.gauge if kind == "gauge" else registry.counter)(name, "test metric", **kwargs)(fn)
        names.append(name)

    yield add
    for name in names:
        registry.METRICS.pop(name, None)


def test_a_gauge_registered_later_is_served_per_company(scrape, temporary_metric):
    """The hook other apps use for their gauges (see compliance/training/monitoring.py)."""
    temporary_metric("vastaja_test_per_company", lambda: [((), len(connection.schema_name))], per_tenant=True)
    text = scrape()
    assert value(text, "vastaja_test_per_company", tenant="acme") == 4  # computed in each company's schema
    assert value(text, "vastaja_test_per_company", tenant="initech") == 7


def test_a_label_value_shaped_like_a_phone_or_email_is_dropped(scrape, temporary_metric):
    temporary_metric(
        "vastaja_test_leaky", lambda: [(("+37251234501",), 1), (("a@b.example",), 1), (("email",), 2)], labels=("kind",)
    )
    text = scrape()
    assert "37251234501" not in text
    assert "a@b.example" not in text
    assert value(text, "vastaja_test_leaky", kind="email") == 2
