"""Bad input gets a 400 that names the field and the rule, and stores nothing."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from answering.models import Line

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "Bad", "phone_number": "5551234"}, "phone_number"),
        ({"name": "Bad", "phone_number": "+372600100"}, "phone_number"),
        ({"name": "Taken", "phone_number": "+3726001001"}, "phone_number"),
        ({"phone_number": "+3726001555"}, "name"),
    ],
)
def test_bad_line_is_a_400_naming_the_field(client_for, acme, acme_admin, payload, field):
    with tenant_context(acme):
        before = Line.objects.count()
    response = client_for("acme.localhost", acme_admin).post("/api/v1/lines/", payload, content_type="application/json")

    assert response.status_code == 400
    body = response.json()
    assert body.get("field") == field or field in body
    with tenant_context(acme):
        assert Line.objects.count() == before


def test_client_member_who_is_not_admin_cannot_create_lines(client_for, acme):
    from tenants.models import Membership, User

    member = User.objects.create_user("acme-member", password="x")
    Membership.objects.create(user=member, company=acme, role=Membership.Role.CLIENT_MEMBER)
    response = client_for("acme.localhost", member).post(
        "/api/v1/lines/", {"name": "Member line", "phone_number": "+3726001556"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert client_for("acme.localhost", member).get("/api/v1/lines/").status_code == 200
