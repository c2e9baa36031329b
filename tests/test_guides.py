"""The three guides in docs/ exist, are linked from the README and the product, and match it; and
every page of the documentation (README.md and docs/*.md) names only commands, screenshots and
pages the product has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import get_commands
from django.urls import Resolver404, URLResolver, get_resolver, resolve, reverse
from django.utils import translation
from django.views.generic import RedirectView

from operations.monitoring.health import HEALTH_PATH
from portal.guides import GUIDES

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
PAGES = ["README.md", *sorted(str(path.relative_to(ROOT)) for path in (ROOT / "docs").glob("*.md"))]
PUBLIC = ("/admin/", "/metrics", "/health/")  # the provider's host; every other page is a company's
NOT_URLS = ("/etc/", "/usr/", "/backups/", "/var/", "/tmp/")  # files on a machine, not pages
PLACEHOLDERS = {"token": "abc", "uidb64": "MQ", "slug": "acme"}


def _routes(urlconf: str, resolver=None, prefix: str = "") -> list[str]:
    """Every route of a URL configuration, as its full pattern (`api/v1/calls/<int:pk>/`)."""
    routes = []
    for pattern in (resolver or get_resolver(urlconf)).url_patterns:
        route = prefix + str(pattern.pattern)
        routes.append(route)
        if isinstance(pattern, URLResolver):
            routes += _routes(urlconf, pattern, route)
    return routes


def _commands_table() -> str:
    match = re.search(r"^### Commands\n(.*?)(?=^#)", README, re.S | re.M)
    assert match, "the README has no '### Commands' table"
    return match.group(1)


def _text(name: str) -> str:
    return (ROOT / "docs" / GUIDES[name]).read_text()


@pytest.mark.parametrize("name", sorted(GUIDES))
def test_each_guide_exists_and_the_readme_links_it(name):
    assert _text(name).startswith("# ")
    assert f"(docs/{GUIDES[name]})" in README


@pytest.mark.parametrize("page", PAGES)
def test_the_commands_and_screenshots_each_page_names_exist(page):
    text = (ROOT / page).read_text()
    commands = set(re.findall(r"manage\.py (\w+)", text))
    if page == "README.md":  # its Commands table names them without the prefix
        commands |= set(re.findall(r"^\| `(\w+)[ `]", _commands_table(), re.M))
    for command in commands:
        assert command in get_commands(), f"{page} names a command that does not exist: {command}"
    for image in re.findall(r"\]\(((?:docs/)?screenshots/[\w.-]+)\)", text):
        assert ((ROOT / page).parent / image).is_file(), f"{page} shows a missing screenshot: {image}"


def test_every_command_of_the_project_is_in_the_readme():
    ours = {name for name, app in get_commands().items() if (ROOT / app.replace(".", "/")).is_dir()}
    assert {"seed_demo", "run_demo", "backup_tenant"} <= ours  # the scan itself works
    listed = set(re.findall(r"^\| `(\w+)[ `]", _commands_table(), re.M))
    assert ours - listed == set(), "management commands the README's Commands table does not list"


def _is_page(path: str, host: str) -> bool:
    urlconf = f"config.urls_{host}"
    example = re.sub(r"<(\w+)>", lambda m: PLACEHOLDERS.get(m.group(1), "1"), path)
    try:
        match = resolve(example, urlconf=urlconf)
    except Resolver404:
        # A prefix such as `/api/v1/` is no page itself, but the routes under it are.
        return path.endswith("/") and any(route.startswith(path[1:]) for route in _routes(urlconf))
    # The admin answers any path with its catch-all view, and any path under a model with a redirect
    # to the change form: neither is a page.
    return match.func.__name__ != "catch_all_view" and getattr(match.func, "view_class", None) is not RedirectView


@pytest.mark.parametrize("page", PAGES)
def test_the_pages_each_page_names_exist(page):
    """`/admin/...` and `/metrics` on the provider's host; the portal's pages, the API and the
    telephony webhooks on a company's host; every http://localhost:8000/ address by its host.
    A placeholder such as `<id>` stands for a value."""
    text = (ROOT / page).read_text()
    named = []
    for path in re.findall(r"`(?:GET |POST )?(/[\w/<>.-]*)[`?]", text):
        if not path.startswith(NOT_URLS):
            named.append(("public" if path.startswith(PUBLIC) else "tenant", path))
    for host, path in re.findall(r"http://([\w.]*)localhost:8000(/[\w/.-]*)", text):
        named.append(("tenant" if host else "public", path))
    for host, path in named:
        if path != HEALTH_PATH:  # answered by HealthMiddleware, before any URL is resolved
            assert _is_page(path, host), f"{page} names a page that does not exist: {path} ({host} host)"


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
