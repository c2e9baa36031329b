"""The portal's navigation: every screen a person may open, in three groups, the admin-only ones for
client admins only; and the favicon every host serves before anyone signs in."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from portal import navigation
from portal.navigation import GROUPS, SCREENS, portal_navigation
from tenants.models import ClientCompany, Membership, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme_member(acme):
    member = User.objects.create_user("acme-member", password="x")
    Membership.objects.create(user=member, company=acme, role=Membership.Role.CLIENT_MEMBER)
    return member


def _nav(client, path="/"):
    return client.get(path).context["portal_nav"]


def test_a_client_admin_has_every_screen_in_three_groups(client_for, acme_admin):
    groups = _nav(client_for("acme.localhost", acme_admin))
    assert [str(group["heading"]) for group in groups] == [str(heading) for heading, _names in GROUPS]
    shown = [str(item["label"]) for group in groups for item in group["items"]]
    assert sorted(shown) == sorted(str(label) for _name, label, _admin in SCREENS)  # each once
    data_protection = [str(item["label"]) for item in groups[1]["items"]]
    assert data_protection == ["Agreement", "Access log", "Data requests", "Audits"]


def test_a_member_gets_no_admin_only_screen(client_for, acme_member):
    shown = {str(item["label"]) for group in _nav(client_for("acme.localhost", acme_member)) for item in group["items"]}
    admin_only = {str(label) for _name, label, admin in SCREENS if admin}
    assert shown
    assert shown & admin_only == set()


def test_the_current_screen_is_marked(client_for, acme_admin):
    groups = _nav(client_for("acme.localhost", acme_admin), "/agreement/")
    current = [str(item["label"]) for group in groups for item in group["items"] if item["current"]]
    assert current == ["Agreement"]


def test_in_estonian_the_groups_and_the_menu_speak_estonian(client_for, acme_admin):
    client = client_for("acme.localhost", acme_admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "et"
    page = client.get("/").content.decode()
    for text in ("Vastamisteenus", "Andmekaitse", "Teie ettevõte", "Menüü", "Kellaajad vööndis Europe/Tallinn"):
        assert text in page


@pytest.mark.parametrize("host", ["localhost", "acme.localhost"])
def test_every_host_serves_the_favicon_to_anyone(client, host):
    response = client.get("/favicon.ico", HTTP_HOST=host)
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body[:4] == b"\x00\x00\x01\x00"  # an icon file


def _labels(groups) -> list[str]:
    return [str(item["label"]) for group in groups for item in group["items"]]


def test_today_is_current_only_on_its_own_page(client_for, acme_admin):
    client = client_for("acme.localhost", acme_admin)
    on_calls = {item["url"]: item["current"] for group in _nav(client, "/calls/") for item in group["items"]}
    assert [url for url, current in on_calls.items() if current] == ["/calls/"]  # "/" is not a prefix match


def test_a_screen_whose_url_is_not_registered_is_left_out(client_for, acme_admin, monkeypatch):
    monkeypatch.setattr(navigation, "SCREENS", [*SCREENS, ("portal-not-built-yet", "Later", False)])
    groups = _nav(client_for("acme.localhost", acme_admin), "/messages/")
    assert "Later" not in _labels(groups)
    assert len(_labels(groups)) == len(SCREENS)


def test_visitors_and_other_hosts_get_no_navigation(acme, acme_admin):
    request = RequestFactory().get("/")
    request.tenant, request.user = acme, AnonymousUser()
    assert portal_navigation(request) == {}
    request.tenant, request.user = ClientCompany.objects.get(schema_name="public"), acme_admin
    assert portal_navigation(request) == {}
    del request.tenant
    assert portal_navigation(request) == {}
