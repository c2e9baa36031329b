"""Unknown hosts and suspended companies: clean answers that reveal nothing."""

from __future__ import annotations

import pytest

from gates.engine import tenant_gate_allows
from tenants.selectors import client_list_for_user
from tenants.services import client_resume, client_suspend

pytestmark = pytest.mark.django_db

LEAKS = [b"Traceback", b"urlpatterns", b"URLconf", b"acme", b"globex", b"initech", b"SECRET", b"Django"]


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", ["/", "/api/v1/lines/", "/admin/"])
def test_unknown_host_gets_a_bare_404(client_for, settings, debug, path, acme_admin):
    settings.DEBUG = debug  # even the development profile shows no trace
    response = client_for("nosuch.localhost", acme_admin).get(path)
    assert response.status_code == 404
    for leak in LEAKS:
        assert leak not in response.content


def test_host_not_in_allowed_hosts_gets_a_bare_404(client_for):
    response = client_for("evil.example.com").get("/")
    assert response.status_code in (400, 404)
    assert b"Traceback" not in response.content


def test_template_schema_has_no_host(client_for, acme_admin):
    assert client_for("tenant_template.localhost", acme_admin).get("/").status_code == 404


def test_suspended_company_answers_403_on_portal_and_api(client_for, globex, globex_admin):
    client_suspend(company=globex, reason="unpaid invoices")

    api = client_for("globex.localhost", globex_admin).get("/api/v1/lines/")
    portal = client_for("globex.localhost", globex_admin).get("/")
    anonymous = client_for("globex.localhost").get("/api/v1/lines/")

    assert api.status_code == 403
    assert api.json() == {"detail": "This client company's service is suspended.", "code": "suspended"}
    assert portal.status_code == 403
    assert b"suspended" in portal.content
    assert b"+372" not in portal.content
    assert anonymous.status_code == 403


def test_suspended_company_is_closed_to_its_agents_until_resumed(client_for, globex, agent1, globex_admin):
    assert globex in client_list_for_user(user=agent1)
    client_suspend(company=globex, reason="unpaid invoices")

    assert globex not in client_list_for_user(user=agent1)
    assert not tenant_gate_allows(user=agent1, company=globex)

    client_resume(company=globex)
    assert tenant_gate_allows(user=agent1, company=globex)
    assert client_for("globex.localhost", globex_admin).get("/api/v1/lines/").status_code == 200


def test_suspension_does_not_touch_other_companies(client_for, globex, acme_admin):
    client_suspend(company=globex, reason="unpaid invoices")
    assert client_for("acme.localhost", acme_admin).get("/api/v1/lines/").status_code == 200


def test_public_host_serves_the_admin(client_for):
    response = client_for("localhost").get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
