"""Client company lifecycle: onboard by template clone, suspend, offboard; each change in the
public change log with who made it, and offboarding one unit that fails whole."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_exists, tenant_context

from answering.models import Call, Line, Voicemail
from tenants.errors import ApplicationError
from tenants.files import encrypted_file_save
from tenants.models import ClientCompany, Domain, Membership, User
from tenants.services import client_offboard, client_onboard, client_resume, client_suspend

pytestmark = pytest.mark.django_db


def _tables(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
        return {row[0] for row in cursor.fetchall()}


def _applied_migrations(schema: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations')
        return set(cursor.fetchall())


def test_onboarding_clones_the_template_schema(client_for):
    company = client_onboard(slug="hooli", name="Hooli", domain="hooli.localhost")

    assert schema_exists("hooli")
    assert _tables("hooli") == _tables(settings.TENANT_BASE_SCHEMA)
    assert "answering_line" in _tables("hooli")
    assert _applied_migrations("hooli") == _applied_migrations(settings.TENANT_BASE_SCHEMA)
    assert Domain.objects.get(domain="hooli.localhost").tenant == company
    with tenant_context(company):
        assert Line.objects.count() == 0  # the template holds structure, never another company's rows

    admin = User.objects.create_user("hooli-admin", password="x")
    Membership.objects.create(user=admin, company=company, role=Membership.Role.CLIENT_ADMIN)
    assert client_for("hooli.localhost", admin).get("/api/v1/lines/").json()["results"] == []


@pytest.mark.parametrize(
    ("slug", "domain", "field"),
    [
        ("acme", "acme2.localhost", "slug"),
        ("Bad Slug", "bad.localhost", "slug"),
        ("public", "public.localhost", "slug"),
        ("tenant_template", "tpl.localhost", "slug"),
        ("hooli", "acme.localhost", "domain"),
    ],
)
def test_onboarding_refuses_bad_or_taken_names(slug, domain, field):
    before = set(ClientCompany.objects.values_list("schema_name", flat=True))
    with pytest.raises(ApplicationError) as refused:
        client_onboard(slug=slug, name="X", domain=domain)
    assert refused.value.field == field
    assert set(ClientCompany.objects.values_list("schema_name", flat=True)) == before


def test_onboarding_refuses_an_unknown_time_zone():
    with pytest.raises(ApplicationError) as refused:
        client_onboard(slug="hooli", name="Hooli", domain="hooli.localhost", time_zone="Mars/Olympus")
    assert refused.value.field == "time_zone"
    assert not schema_exists("hooli")


def test_offboarding_drops_schema_hosts_and_people(client_for, initech):
    admin = User.objects.get(username="initech-admin")
    client_offboard(company=initech, reason="contract ended")

    initech.refresh_from_db()
    assert initech.status == ClientCompany.Status.OFFBOARDED
    assert not schema_exists("initech")
    assert not Domain.objects.filter(tenant=initech).exists()
    assert not Membership.objects.filter(company=initech).exists()
    assert client_for("initech.localhost", admin).get("/").status_code == 404
    with pytest.raises(ApplicationError):
        client_resume(company=initech)


def test_provider_and_template_rows_cannot_be_suspended():
    for schema in ("public", settings.TENANT_BASE_SCHEMA):
        with pytest.raises(ApplicationError):
            client_suspend(company=ClientCompany.objects.get(schema_name=schema), reason="no")


def _status_entries(company: ClientCompany) -> list[LogEntry]:
    connection.set_schema_to_public()
    entries = LogEntry.objects.get_for_object(company).filter(action=LogEntry.Action.UPDATE).order_by("pk")
    return [e for e in entries if "status" in e.changes_dict]


def test_suspend_and_resume_are_in_the_public_change_log_with_the_actor(globex):
    provider_admin = User.objects.get(username="provider-admin")
    client_suspend(company=globex, reason="unpaid invoices", actor=provider_admin)
    client_resume(company=globex, actor=provider_admin)

    suspended, resumed = _status_entries(globex)[-2:]
    assert suspended.changes_dict["status"] == ["active", "suspended"]
    assert resumed.changes_dict["status"] == ["suspended", "active"]
    assert suspended.actor == resumed.actor == provider_admin


def test_offboarding_records_who_did_it_and_what_went(initech):
    provider_admin = User.objects.get(username="provider-admin")
    memberships = [str(pk) for pk in Membership.objects.filter(company=initech).values_list("pk", flat=True)]
    client_offboard(company=initech, reason="contract ended", actor=provider_admin)

    (entry,) = _status_entries(initech)
    assert entry.changes_dict["status"] == ["active", "offboarded"]
    assert entry.actor == provider_admin
    removed = LogEntry.objects.filter(
        content_type__model="membership", object_pk__in=memberships, action=LogEntry.Action.DELETE
    )
    assert memberships
    assert {e.actor for e in removed} == {provider_admin}
    assert removed.count() == len(memberships)


def test_an_offboarding_that_fails_midway_leaves_the_company_as_it_was(initech, monkeypatch, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path)
    with tenant_context(initech):
        lines = Line.objects.count()
        audio = _voicemail_with_audio()
    domains = set(Domain.objects.filter(tenant=initech).values_list("domain", flat=True))
    memberships = set(Membership.objects.filter(company=initech).values_list("pk", flat=True))

    def fail(*args, **kwargs):
        # After the domains, the people and the schema have gone: the last step fails.
        assert not schema_exists("initech")
        raise RuntimeError("the database went away")

    monkeypatch.setattr(ClientCompany, "full_clean", fail)
    with pytest.raises(RuntimeError, match="went away"):
        client_offboard(company=initech, reason="contract ended")

    connection.set_schema_to_public()
    stored = ClientCompany.objects.get(pk=initech.pk)
    assert stored.status == ClientCompany.Status.ACTIVE
    assert schema_exists("initech")
    assert set(Domain.objects.filter(tenant=initech).values_list("domain", flat=True)) == domains
    assert set(Membership.objects.filter(company=initech).values_list("pk", flat=True)) == memberships
    with tenant_context(initech):
        assert Line.objects.count() == lines
    assert default_storage.exists(audio)
    assert _status_entries(initech) == []


def test_the_company_files_are_deleted_once_the_offboarding_has_committed(
    initech, tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = str(tmp_path)
    with tenant_context(initech):
        audio = _voicemail_with_audio()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client_offboard(company=initech, reason="contract ended")
    assert default_storage.exists(audio)  # not before the commit: a rollback could not bring it back
    for callback in callbacks:
        callback()
    assert not default_storage.exists(audio)


def test_offboarding_is_the_outer_unit_and_refuses_to_run_inside_another(initech):
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        client_offboard(company=initech, reason="contract ended")
    assert schema_exists("initech")


def test_an_offboarded_company_cannot_be_offboarded_or_suspended_again(initech):
    client_offboard(company=initech, reason="contract ended")
    for again in (
        lambda: client_offboard(company=initech, reason="twice"),
        lambda: client_suspend(company=initech, reason="late"),
    ):
        with pytest.raises(ApplicationError) as refused:
            again()
        assert refused.value.field == "status"


def _voicemail_with_audio() -> str:
    line = Line.objects.order_by("pk").first()
    call = Call.objects.create(line=line, telephony_sid="CAoffboard" + "0" * 24, started_at=timezone.now())
    audio = encrypted_file_save(folder="voicemail", content=b"RIFF audio")
    Voicemail.objects.create(call=call, recording_sid="RE" + "0" * 32, audio=audio)
    with connection.cursor() as cursor:
        # Rows written in this test's own transaction leave deferred foreign-key checks pending,
        # and PostgreSQL drops no table with pending checks: run them now, as a commit would.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return audio
