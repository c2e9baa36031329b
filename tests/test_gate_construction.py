"""The gate cannot be skipped (issue 13): every model of our per-tenant apps, read by a channel that
does not go through the gate layer, raises GateContextMissing. One of each channel kind a future
author might write (tests/gate_probes.py): an admin view, a Celery task, a management command and a
template tag. The models come from the app registry, so a new model is covered the day it lands.

And the other side: the channel bases enter the person's context, so a read through them works,
and returns only what that person may see."""

from __future__ import annotations

import pytest
from celery import shared_task
from django.core.management import call_command
from django.template import Context, Engine
from django.test import Client
from django_tenants.utils import schema_context, tenant_context

from gates.context import GateContextMissing, cleared, current, system_context
from gates.hooks import owned_tenant_models

MODELS = owned_tenant_models()
LABELS = [model._meta.label for model in MODELS]


def test_the_registry_lists_every_app_we_own():
    """The walk finds the tenant models of each app we own, and none of the public ones: it could
    not pass by listing nothing."""
    apps_listed = {label.split(".")[0] for label in LABELS}
    assert apps_listed == {"answering", "crm", "scheduling", "audit", "billing", "levels", "timers", "outbox"}
    assert {"crm.Contact", "answering.Call", "audit.AccessLogEntry", "timers.Timer"} <= set(LABELS)
    assert "crm.ContactUserObjectPermission" in LABELS  # the grant tables too
    assert not {"tenants.ClientCompany", "tenants.User", "agreements.DpaVersion"} & set(LABELS)


@pytest.fixture
def probe_urls(settings):
    from django.urls import clear_url_caches

    settings.PUBLIC_SCHEMA_URLCONF = "tests.gate_probes"
    clear_url_caches()
    yield
    clear_url_caches()


@pytest.mark.django_db
@pytest.mark.parametrize("label", LABELS)
def test_an_admin_view_that_reads_by_itself_raises(label, acme, agent1, admin_for, probe_urls, caplog):
    """A plain view behind the admin's sign-in, working for acme, reading one of acme's models by
    itself: the read raises, the log says so, and the person sees a plain error page with nothing
    of the data or the code."""
    client = admin_for(agent1, "acme")
    client.raise_request_exception = False
    assert current() is not None  # the test's own context, which the request must not inherit
    response = client.get(f"/admin/gate-probe/{label}/acme/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "cannot be shown" in body
    for leak in ("Traceback", "first", "gates/", "GateContextMissing"):
        assert leak not in body
    assert any(isinstance(r.exc_info and r.exc_info[1], GateContextMissing) for r in caplog.records)


@pytest.mark.django_db
@pytest.mark.parametrize("label", LABELS)
def test_a_celery_task_that_reads_by_itself_raises(label, acme):
    """Through Celery's own machinery (task_prerun clears the context), even from inside a test
    that holds a context of its own."""
    from tests.gate_probes import read_first_task

    assert current() is not None  # the test's own context is active here
    with pytest.raises(GateContextMissing, match=label.split(".")[1]):
        read_first_task.apply(args=[label, "acme"], throw=True)
    assert current() is not None  # and back once the task has ended


@pytest.mark.django_db
@pytest.mark.parametrize("label", LABELS)
def test_a_management_command_that_reads_by_itself_raises(label, acme):
    from tests.gate_probes import ReadFirstCommand

    with pytest.raises(GateContextMissing, match=label.split(".")[1]):
        call_command(ReadFirstCommand(), label, "acme")
    assert current() is not None


@pytest.mark.django_db
@pytest.mark.parametrize("label", LABELS)
def test_a_template_tag_that_reads_by_itself_raises(label, acme):
    engine = Engine(libraries={"gate_probes": "tests.gate_probes"})
    page = engine.from_string("{% load gate_probes %}{% first_row label schema %}")
    with cleared("test"), pytest.raises(GateContextMissing, match=label.split(".")[1]):
        page.render(Context({"label": label, "schema": "acme"}))


@pytest.mark.django_db
def test_each_probe_reads_fine_inside_a_context(acme):
    """The probes fail above because of the missing context and nothing else: with one, they read."""
    from answering.models import Call
    from tests.gate_probes import read_first

    with tenant_context(acme):
        expected = Call.objects.order_by("pk").first().pk
    assert read_first("answering.Call", "acme") == expected


@pytest.mark.django_db
def test_the_custom_view_base_reads_only_what_the_person_may_see(acme, agent2, admin_for, probe_urls):
    """agent2 holds a grant on acme's reception line and not on its emergencies line: a view on
    GatedAdminView reads without raising, and gets the granted line's calls and no other."""
    from guardian.core import ObjectPermissionChecker

    from answering.models import Call, Line

    with tenant_context(acme):
        checker = ObjectPermissionChecker(agent2)
        granted = [line.pk for line in Line.objects.all() if checker.has_perm("view_line", line)]
        expected = sorted(Call.objects.filter(line__in=granted).values_list("pk", flat=True))
        everything = Call.objects.count()
    assert expected  # agent2 sees some calls,
    assert len(expected) < everything  # and not all

    response = admin_for(agent2, "acme").get("/admin/gate-probe-calls/")
    assert response.status_code == 200
    assert response.json()["ids"] == expected


@pytest.mark.django_db
def test_the_admin_base_reads_only_what_the_person_may_see(acme, agent2, admin_for):
    from answering.models import Call

    with tenant_context(acme):
        hidden = Call.objects.exclude(line__phone_number="+3726001001").values_list("pk", flat=True).first()
    assert hidden is not None
    client = admin_for(agent2, "acme")
    assert client.get("/admin/answering/call/").status_code == 200
    assert client.get(f"/admin/answering/call/{hidden}/change/").status_code == 404


@pytest.mark.django_db
def test_the_api_base_reads_in_the_persons_context(acme, acme_admin, client_for):
    from answering.models import Line

    with tenant_context(acme):
        lines = sorted(Line.objects.values_list("pk", flat=True))
    response = client_for("acme.localhost", acme_admin).get("/api/v1/lines/")
    assert response.status_code == 200
    assert sorted(row["id"] for row in response.json()["results"]) == lines


@pytest.mark.django_db
def test_a_portal_page_reads_in_the_persons_context_and_another_company_sees_nothing(
    acme, acme_admin, globex_admin, client_for
):
    assert client_for("acme.localhost", acme_admin).get("/messages/").status_code == 200
    assert client_for("acme.localhost", globex_admin).get("/messages/").status_code == 404


def test_a_system_context_needs_a_reason():
    from gates.context import system_context

    for reason in ("", "   ", None):
        with pytest.raises(ValueError, match="reason"):
            system_context(reason=reason)


@pytest.mark.django_db
def test_a_system_context_reads_as_its_job(acme):
    from answering.models import Call
    from gates.context import system_context

    with cleared("command"), system_context(reason="retention purge"), tenant_context(acme):
        assert current().reason == "retention purge"
        assert current().channel == "system"
        assert Call.objects.exists()
    with cleared("task"), system_context(reason="retention purge"):
        assert current().channel == "task"


def test_a_fresh_thread_has_no_context():
    """A thread (a live server's, a worker's) starts with nothing, whatever the one that made it
    holds."""
    import threading

    seen = []
    thread = threading.Thread(target=lambda: seen.append(current()))
    thread.start()
    thread.join()
    assert current() is not None
    assert seen == [None]


@pytest.mark.django_db
def test_a_plain_client_without_a_session_is_not_given_data(probe_urls):
    """Nobody signed in: the admin's sign-in, never the probe's read."""
    response = Client(HTTP_HOST="localhost").get("/admin/gate-probe/answering.Call/acme/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


# ---- a job's reads are logged as that job


@shared_task(name="tests.gate_construction.contacts_as_a_job")
@system_context(reason="retention purge")
def _contacts_as_a_job(schema: str) -> list[int]:
    from crm.models import Contact

    with schema_context(schema):
        return [contact.pk for contact in Contact.objects.order_by("pk")[:3]]


def _last_entry(company):
    from audit.models import AccessLogEntry

    with tenant_context(company):
        return AccessLogEntry.objects.order_by("-pk").first()


@pytest.mark.django_db
def test_a_commands_reads_are_logged_as_its_job_on_the_system_channel(acme):
    from crm.models import Contact

    before = _last_entry(acme).pk
    with cleared("command"), system_context(reason="reindex blind indexes"), tenant_context(acme):
        ids = [contact.pk for contact in Contact.objects.only("pk", "name").order_by("pk")[:2]]
    entry = _last_entry(acme)
    assert entry.pk > before
    assert (entry.channel, entry.job, entry.object_type) == ("system", "reindex blind indexes", "crm.Contact")
    assert entry.object_ids == [str(pk) for pk in ids]
    assert entry.fields == ["name"]  # what the rows were loaded with, and nothing deferred
    assert entry.user is None


@pytest.mark.django_db
def test_a_tasks_reads_are_logged_as_its_job_on_the_task_channel(acme):
    ids = _contacts_as_a_job.apply(args=["acme"], throw=True).get()
    entry = _last_entry(acme)
    assert (entry.channel, entry.job, entry.object_type) == ("task", "retention purge", "crm.Contact")
    assert entry.object_ids == [str(pk) for pk in ids]
    assert "phone_number" in entry.fields


@pytest.mark.django_db
def test_the_suites_own_reads_are_not_logged(acme):
    from crm.models import Contact

    before = _last_entry(acme).pk
    with tenant_context(acme):
        assert list(Contact.objects.all()[:3])
    assert _last_entry(acme).pk == before
