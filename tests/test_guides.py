"""The three guides in docs/ exist, are linked from the README and the product, and match it: the
screens, pages, commands and labels they name are the ones the product has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import get_commands
from django.urls import resolve, reverse
from django.utils import translation

from portal.guides import GUIDES

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _text(name: str) -> str:
    return (ROOT / "docs" / GUIDES[name]).read_text()


@pytest.mark.parametrize("name", sorted(GUIDES))
def test_each_guide_exists_and_the_readme_links_it(name):
    assert _text(name).startswith("# ")
    assert f"(docs/{GUIDES[name]})" in README


@pytest.mark.parametrize("name", sorted(GUIDES))
def test_the_commands_and_screenshots_a_guide_names_exist(name):
    text = _text(name)
    for command in re.findall(r"manage\.py (\w+)", text):
        assert command in get_commands(), f"{GUIDES[name]} names a command that does not exist: {command}"
    for image in re.findall(r"\]\((screenshots/[\w.-]+)\)", text):
        assert (ROOT / "docs" / image).is_file(), f"{GUIDES[name]} shows a missing screenshot: {image}"


def test_the_admin_pages_the_staff_guides_name_exist():
    for name in ("agent", "dpo"):
        for path in re.findall(r"`(/admin/[\w/-]*)`", _text(name)):
            resolve(path, urlconf="config.urls_public")


def test_the_portal_screens_the_client_guide_names_are_the_portals():
    from portal.navigation import SCREENS

    with translation.override("en"):  # a request earlier in the run may have left Estonian active
        urls = {str(label): name for name, label, _admin in SCREENS}
    named = set(re.findall(r"^- \*\*([^*]+)\*\*:", _text("client-admin"), re.M))
    assert named, "the guide lists the screens"
    assert named - set(urls) == set(), "the guide names screens the portal does not have"
    for label in named:
        reverse(urls[label], urlconf="config.urls_tenant")  # the screen is built, not only listed
    assert set(urls) - named <= {"Help"}, "a portal screen the guide does not describe"
    for path in re.findall(r"`(/api/v1/[\w-]+/[\w/-]*)`", _text("client-admin")):
        resolve(path, urlconf="config.urls_tenant")


@pytest.mark.django_db
def test_staff_read_their_guides_in_the_admin_and_clients_theirs_in_the_portal(admin_for, client_for, acme_admin):
    from tenants.models import User

    agent = admin_for(User.objects.get(username="agent1"), "acme")
    page = agent.get("/admin/help/agent/")
    assert page.status_code == 200
    assert "restricted by DPA" in page.content.decode()
    assert "/admin/help/agent/" in agent.get("/admin/").content.decode()  # the Help link
    assert admin_for(User.objects.get(username="dpo")).get("/admin/help/dpo/").status_code == 200
    assert agent.get("/admin/help/client-admin/").status_code == 404  # not a staff guide

    portal = client_for("acme.localhost", acme_admin)
    assert "Signing the agreement" in portal.get("/help/").content.decode()
    assert client_for("acme.localhost").get("/help/").status_code == 302  # sign in first
