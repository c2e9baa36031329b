"""The portal's navigation: the screens a person may open, and only those; admin-only screens for
client admins alone; the current screen marked; nothing for visitors or off a company's host."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from portal import navigation
from portal.navigation import SCREENS, portal_navigation
from tenants.models import ClientCompany, Membership, User

pytestmark = pytest.mark.django_db
ADMIN_ONLY = {str(label) for _name, label, admin_only in SCREENS if admin_only}


def _labels(nav) -> list[str]:
    return [str(item["label"]) for item in nav]


@pytest.fixture
def acme_member(acme):
    member = User.objects.create_user("acme-member-nav", password="x")
    Membership.objects.create(user=member, company=acme, role=Membership.Role.CLIENT_MEMBER)
    return member


def test_a_client_admin_gets_every_screen_in_order(client_for, acme_admin):
    nav = client_for("acme.localhost", acme_admin).get("/messages/").context["portal_nav"]
    assert _labels(nav) == [str(label) for _name, label, _admin_only in SCREENS]


def test_a_client_member_gets_no_admin_only_screen(client_for, acme_member):
    nav = client_for("acme.localhost", acme_member).get("/messages/").context["portal_nav"]
    labels = _labels(nav)
    assert {"Access log", "Team", "Audits", "Security"}.isdisjoint(labels)
    assert {"Today", "Messages", "Data requests", "API tokens", "Help"} <= set(labels)
    assert len(labels) == len(SCREENS) - len(ADMIN_ONLY)


def test_the_current_screen_is_marked_and_today_only_on_its_own_page(client_for, acme_admin):
    client = client_for("acme.localhost", acme_admin)
    on_calls = {item["url"]: item["current"] for item in client.get("/calls/").context["portal_nav"]}
    assert [url for url, current in on_calls.items() if current] == ["/calls/"]  # "/" is not a prefix match
    on_home = {item["url"]: item["current"] for item in client.get("/").context["portal_nav"]}
    assert [url for url, current in on_home.items() if current] == ["/"]


def test_a_screen_whose_url_is_not_registered_is_left_out(client_for, acme_admin, monkeypatch):
    monkeypatch.setattr(navigation, "SCREENS", [*SCREENS, ("portal-not-built-yet", "Later", False)])
    nav = client_for("acme.localhost", acme_admin).get("/messages/").context["portal_nav"]
    assert "Later" not in _labels(nav)
    assert len(nav) == len(SCREENS)


def test_visitors_and_other_hosts_get_no_navigation(acme, acme_admin):
    request = RequestFactory().get("/")
    request.tenant, request.user = acme, AnonymousUser()
    assert portal_navigation(request) == {}
    request.tenant, request.user = ClientCompany.objects.get(schema_name="public"), acme_admin
    assert portal_navigation(request) == {}
    del request.tenant
    assert portal_navigation(request) == {}
