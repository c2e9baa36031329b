"""A row of one client company never reaches another: through the ORM, raw SQL and HTTP."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from answering.models import Line
from answering.services.lines import line_create

pytestmark = pytest.mark.django_db


def test_each_host_resolves_to_its_own_schema(client_for, acme_admin, globex_admin):
    acme_page = client_for("acme.localhost", acme_admin).get("/")
    globex_page = client_for("globex.localhost", globex_admin).get("/")

    assert acme_page.status_code == 200
    assert acme_page.wsgi_request.tenant.schema_name == "acme"
    assert "Acme Dental reception" in acme_page.content.decode()
    assert globex_page.wsgi_request.tenant.schema_name == "globex"
    assert "Globex Law main line" in globex_page.content.decode()
    assert "Acme Dental" not in globex_page.content.decode()


def test_row_created_in_acme_is_invisible_in_globex_through_the_orm(acme, globex):
    with tenant_context(acme):
        line_create(name="Acme night line", phone_number="+3726001999")
        assert Line.objects.filter(phone_number="+3726001999").exists()

    with tenant_context(globex):
        assert not Line.objects.filter(phone_number="+3726001999").exists()
        assert not Line.objects.filter(name__startswith="Acme").exists()
        # The same number is free in globex: each schema has its own unique index.
        line_create(name="Globex night line", phone_number="+3726001999")

    with tenant_context(acme):
        assert Line.objects.get(phone_number="+3726001999").name == "Acme night line"


def test_row_created_in_acme_lives_only_in_acmes_schema_table(acme):
    with tenant_context(acme):
        line_create(name="Acme raw SQL probe", phone_number="+3726001998")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM acme.answering_line WHERE phone_number = '+3726001998'")
        assert cursor.fetchone()[0] == 1
        cursor.execute("SELECT count(*) FROM globex.answering_line WHERE phone_number = '+3726001998'")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT to_regclass('public.answering_line')")
        assert cursor.fetchone()[0] is None, "tenant tables must not exist in the public schema"


def test_row_created_over_http_in_acme_is_invisible_over_http_in_globex(client_for, acme_admin, globex_admin):
    created = client_for("acme.localhost", acme_admin).post(
        "/api/v1/lines/", {"name": "Acme HTTP line", "phone_number": "+3726001997"}, content_type="application/json"
    )
    assert created.status_code == 201, created.content

    acme_list = client_for("acme.localhost", acme_admin).get("/api/v1/lines/").json()
    globex_list = client_for("globex.localhost", globex_admin).get("/api/v1/lines/").json()

    assert "+3726001997" in [line["phone_number"] for line in acme_list["results"]]
    assert "+3726001997" not in [line["phone_number"] for line in globex_list["results"]]
    assert [line["name"] for line in globex_list["results"]] == ["Globex Law main line"]


@pytest.mark.parametrize("path", ["/", "/api/v1/lines/"])
def test_member_of_one_company_gets_404_on_another(client_for, acme_admin, path):
    response = client_for("globex.localhost", acme_admin).get(path)
    assert response.status_code == 404
    assert b"Globex" not in response.content


@pytest.mark.parametrize("path", ["/", "/api/v1/lines/"])
def test_provider_staff_get_404_on_a_client_host_assigned_or_not(client_for, agent2, agent1, path):
    # The portal shows the controller's data in full; staff see it only in the DPA-gated admin.
    assert client_for("globex.localhost", agent2).get(path).status_code == 404  # not assigned
    assert client_for("globex.localhost", agent1).get(path).status_code == 404  # assigned


def test_member_cannot_create_a_line_in_another_company(client_for, acme_admin, globex):
    response = client_for("globex.localhost", acme_admin).post(
        "/api/v1/lines/", {"name": "Intruder", "phone_number": "+3726002999"}, content_type="application/json"
    )
    assert response.status_code == 404
    with tenant_context(globex):
        assert not Line.objects.filter(phone_number="+3726002999").exists()


def test_anonymous_visitor_sees_no_data(client_for):
    api = client_for("acme.localhost").get("/api/v1/lines/")
    portal = client_for("acme.localhost").get("/")
    assert api.status_code == 401  # the API asks for a session or a bearer token
    assert api["WWW-Authenticate"].startswith("Bearer")
    assert b"+372" not in api.content
    assert portal.status_code == 302
    assert portal["Location"].startswith("/accounts/login/")


def test_cache_keys_carry_the_schema(acme, globex):
    from django.core.cache import cache

    with tenant_context(acme):
        cache.set("dashboard", "acme's numbers")
    with tenant_context(globex):
        assert cache.get("dashboard") is None
    with tenant_context(acme):
        assert cache.get("dashboard") == "acme's numbers"
        cache.delete("dashboard")
