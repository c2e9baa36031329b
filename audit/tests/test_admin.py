"""Audit in the provider's admin: the DPO and supervisors raise data-subject requests without
seeing the person's data (agents cannot), and the statistics draw an answered bar per row."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.contrib import admin
from django_tenants.utils import tenant_context

from audit.models import DataSubjectRequest, LineDayStats
from tenants.models import User

pytestmark = pytest.mark.django_db
RAISE = "/admin/audit/datasubjectrequest/raise/"


def test_the_dpo_raises_a_request_in_the_admin_without_seeing_content(acme, admin_for, two_callers):
    dpo = User.objects.get(username="dpo")
    client = admin_for(dpo, "acme")
    page = client.get("/admin/audit/datasubjectrequest/raise/")
    assert page.status_code == 200
    raised = client.post("/admin/audit/datasubjectrequest/raise/", {"kind": "access", "phone_number": "+37255581111"})
    assert raised.status_code == 302
    listing = client.get("/admin/audit/datasubjectrequest/").content.decode()
    assert "Open" in listing  # handed to acme's admins, who carry it out (tests/test_leak_dsr.py)
    assert "+37255581111" not in listing  # the DPO sees the request's state, not the person's number


def test_agents_cannot_raise_a_request(acme, admin_for, agent1):
    with tenant_context(acme):
        before = DataSubjectRequest.objects.count()
    client = admin_for(agent1, "acme")
    assert client.get(RAISE).status_code == 404
    assert client.post(RAISE, {"kind": "access", "phone_number": "+37255581111"}).status_code == 404
    with tenant_context(acme):
        assert DataSubjectRequest.objects.count() == before


def test_a_request_without_a_number_or_address_is_an_error_on_the_form(acme, admin_for):
    with tenant_context(acme):
        before = DataSubjectRequest.objects.count()
    page = admin_for(User.objects.get(username="supervisor"), "acme").post(RAISE, {"kind": "access"})
    assert page.status_code == 200
    assert page.context["form"].errors
    with tenant_context(acme):
        assert DataSubjectRequest.objects.count() == before


@pytest.mark.parametrize(("answered", "offered", "percent", "width"), [(3, 4, 75, 90), (0, 5, 0, 0), (0, 0, 0, 0)])
def test_the_answered_bar_shows_the_share_of_calls_answered(answered, offered, percent, width):
    bar = admin.site._registry[LineDayStats].answered_bar(SimpleNamespace(answered=answered, offered=offered))
    assert f'aria-label="{percent}% answered"' in bar
    assert f'<rect width="{width}" height="12" fill="#2a7d4f"/>' in bar
    assert bar.endswith(f" {percent}%")
