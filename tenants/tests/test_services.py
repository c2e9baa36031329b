"""Client company lifecycle: onboard by template clone, suspend, offboard."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_exists, tenant_context

from answering.models import Line
from tenants.errors import ApplicationError
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
