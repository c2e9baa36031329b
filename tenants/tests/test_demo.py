"""The demo seed is idempotent and refuses production."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import tenant_context

from answering.models import Line
from demo.world import DEMO_PASSWORD, demo_seed
from tenants.models import Assignment, ClientCompany, Domain, Membership, User

pytestmark = pytest.mark.django_db


def _snapshot() -> dict:
    connection.set_schema_to_public()
    snap = {
        "companies": list(ClientCompany.objects.order_by("pk").values()),
        "domains": list(Domain.objects.order_by("pk").values()),
        "users": list(User.objects.order_by("pk").values()),
        "memberships": list(Membership.objects.order_by("pk").values()),
        "assignments": list(Assignment.objects.order_by("pk").values()),
    }
    for company in ClientCompany.objects.filter(kind=ClientCompany.Kind.CLIENT):
        with tenant_context(company):
            snap[f"lines:{company.schema_name}"] = list(Line.objects.order_by("pk").values())
    return snap


def test_seeding_twice_changes_nothing():
    before = _snapshot()
    demo_seed(log=lambda line: None, rich=False)
    assert _snapshot() == before


def test_demo_world_has_the_promised_people_and_companies():
    assert {c.schema_name for c in ClientCompany.objects.filter(kind=ClientCompany.Kind.CLIENT)} == {
        "acme",
        "globex",
        "initech",
    }
    for username in ["agent1", "agent2", "supervisor", "dpo", "provider-admin"]:
        user = User.objects.get(username=username)
        assert user.is_provider_staff
        assert user.check_password(DEMO_PASSWORD)
    for slug in ["acme", "globex", "initech"]:
        admin = User.objects.get(username=f"{slug}-admin")
        assert not admin.is_provider_staff
        assert Membership.objects.get(user=admin).company.schema_name == slug


def test_seed_demo_refuses_the_production_profile(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo")
