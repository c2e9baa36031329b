"""The three guides in docs/ exist, are linked from the README and the product, and match it; and
every page of the documentation (README.md and docs/*.md) names only commands, screenshots and
pages the product has. Each guide has an Estonian translation in docs/et/, checked the same way.

A guide quotes what the screen shows in bold (**Book an appointment**, **Answering desk → Calls**):
each quoted label must be one that a template, an admin registration or a translation has."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import get_commands
from django.urls import Resolver404, URLResolver, get_resolver, resolve, reverse
from django.utils import translation
from django.utils.text import capfirst
from django.views.generic import RedirectView

from operations.monitoring.health import HEALTH_PATH
from portal.guides import GUIDES, STAFF_GUIDES, TRANSLATED
from tests.test_translations import CATALOGUES, _entries

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
PAGES = ["README.md", *sorted(str(path.relative_to(ROOT)) for path in (ROOT / "docs").rglob("*.md"))]
PUBLIC = ("/admin/", "/metrics", "/health/")  # the provider's host; every other page is a company's
NOT_URLS = ("/etc/", "/usr/", "/backups/", "/var/", "/tmp/")  # files on a machine, not pages
PLACEHOLDERS = {"token": "abc", "uidb64": "MQ", "slug": "acme"}
LANGUAGES = ["en", *TRANSLATED]
EACH_GUIDE = [(name, language) for name in sorted(GUIDES) for language in LANGUAGES]


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


def _path(name: str, language: str = "en") -> Path:
    return ROOT / "docs" / GUIDES[name] if language == "en" else TRANSLATED[language] / GUIDES[name]


def _text(name: str, language: str = "en") -> str:
    return _path(name, language).read_text()


@pytest.mark.parametrize(("name", "language"), EACH_GUIDE)
def test_each_guide_exists_and_the_readme_links_it(name, language):
    assert _text(name, language).startswith("# ")
    assert f"({_path(name, language).relative_to(ROOT)})" in README


def _prose(text: str) -> str:
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


@pytest.mark.parametrize(("name", "language"), [(n, lang) for n, lang in EACH_GUIDE if lang != "en"])
def test_a_translation_has_the_english_guides_sections_pictures_and_code(name, language):
    """Kept in step: the same headings (so the same anchors in the product), the same screenshots in
    the same order, and the same names, paths and commands in code spans."""
    english, translated = _prose(_text(name)), _prose(_text(name, language))

    def headings(text):
        return re.findall(r"^(#+) ", text, re.M)

    def pictures(text):
        return re.findall(r"!\[[^\]]*\]\((?:\.\./)?(screenshots/[\w.-]+)\)", text)

    def code(text):
        return set(re.findall(r"`([^`\n]+)`", text))

    assert headings(translated) == headings(english)
    assert pictures(translated) == pictures(english)
    assert code(translated) == code(english)


# ---- the labels a guide quotes ---------------------------------------------------------------------

# What a template or a string fills in at run time; a guide writes it as "…" (**Sign version …**).
_FILLED_IN = re.compile(r"\{\{.*?\}\}|%\(\w+\)[sd]|%[sd]|\{\w*\}")
_TRANSLATE = re.compile(r"""\{%\s*(?:translate|trans)\s+(?:"([^"]+)"|'([^']+)')""")
_ATTRIBUTE = re.compile(r"""\b(?:value|aria-label|title|placeholder)=["']([^"'{<]+)["']""")
_IDENTIFIER = re.compile(r"[a-z0-9_.:/#-]*")  # a key, a URL name, a choice's value: not shown as such


def _normal(label: str) -> str:
    return " ".join(label.split()).lower()


def _variants(unit: str) -> set[str]:
    """A label as a guide may quote it: whole, without a trailing colon or full stop, or without a
    trailing remark in brackets (**Activate** for "Activate (needs approval and …)")."""
    unit = _normal(unit)
    if not unit:
        return set()
    return {unit, unit.rstrip(":."), re.sub(r"\s*\([^)]*\)$", "", unit)}


def _units(markup: str) -> set[str]:
    """The labels a piece of markup shows: its translated strings, the texts between its tags and
    its attribute values (buttons' and inputs' labels)."""
    markup = _FILLED_IN.sub("…", markup)
    units = {single or double for single, double in _TRANSLATE.findall(markup)}
    units |= set(_ATTRIBUTE.findall(markup))
    for text in re.split(r"<(?:[^>{]|\{[^}]*\})*>", markup):  # a tag may hold {% url … %}
        units |= set(re.split(r"\{%.*?%\}|\{#.*?#\}", text, flags=re.S))
    return {variant for unit in units for variant in _variants(unit)}


def _python_strings(path: Path) -> set[str]:
    """Every string a module holds, an f-string's fields written as "…": labels, descriptions,
    choices, messages and format_html markup."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.JoinedStr):
            found.add("".join(part.value if isinstance(part, ast.Constant) else "…" for part in node.values))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.add(node.value)
    return {text for text in found if not _IDENTIFIER.fullmatch(text)}


def _house_files(pattern: str) -> list[Path]:
    return [
        path
        for path in ROOT.rglob(pattern)
        if not {".venv", "tests", "migrations", "bench", ".vastaja"} & set(path.relative_to(ROOT).parts)
    ]


@cache
def _english_labels() -> frozenset[str]:
    """What the screens can show in English: every template of the house and of Django's admin,
    every string of the house's modules, and the names of the apps, models and fields (the admin's
    menus and columns)."""
    import django.contrib.admin

    labels: set[str] = set()
    admin_templates = Path(django.contrib.admin.__file__).parent / "templates"
    templates = [*_house_files("templates/**/*.html"), *_house_files("templates/**/*.txt")]
    for path in [*templates, *admin_templates.rglob("*.html")]:
        labels |= _units(path.read_text())
    for path in _house_files("*.py"):
        for text in _python_strings(path):
            labels |= _units(text)
    with translation.override("en"):
        for config in apps.get_app_configs():
            labels |= _variants(str(config.verbose_name))
        for model in apps.get_models():
            meta = model._meta
            labels |= _variants(capfirst(str(meta.verbose_name))) | _variants(capfirst(str(meta.verbose_name_plural)))
            for field in meta.get_fields():
                labels |= _variants(str(getattr(field, "verbose_name", "") or ""))
    return frozenset(labels)


def _catalogue(language: str) -> dict[str, str]:
    import django.contrib.admin

    entries: dict[str, str] = {}
    django_admin = Path(django.contrib.admin.__file__).parent / "locale" / language / "LC_MESSAGES" / "django.po"
    for po in [django_admin, *(p for p in CATALOGUES if f"/locale/{language}/" in str(p))]:
        entries.update({key: value for key, value in _entries(po).items() if value})
    return entries


@cache
def _labels(language: str, *, staff: bool) -> frozenset[str]:
    """What the screens can show in `language`. In English, `_english_labels`. Translated, the
    catalogues' translations; and the labels no catalogue translates, which every language shows as
    they are (names, "Eesti"). The admin's own screens are English (only Django's part of them is
    translated), so a staff guide may also quote any English label of the admin."""
    english = _english_labels()
    if language == "en":
        return english
    catalogue = _catalogue(language)
    translated = {variant for key in catalogue for variant in _units(key)}
    labels = {variant for value in catalogue.values() for variant in _units(value)}
    return frozenset(labels | (english if staff else english - translated))


@cache
def _admin_menus() -> dict[str, set[str]]:
    """The admin's menu: each app's name and the names of its registered models."""
    from django.contrib import admin

    menus: dict[str, set[str]] = {}
    with translation.override("en"):
        for model in admin.site._registry:
            app = str(model._meta.app_config.verbose_name)
            menus.setdefault(app, set()).add(capfirst(str(model._meta.verbose_name_plural)))
    return menus


def _missing_labels(text: str, labels: frozenset[str]) -> list[str]:
    """The labels quoted in bold that the screens do not have. A menu path (**A → B → C**) that
    starts with an admin app must name one of that app's models next."""
    menus = _admin_menus()
    missing = []
    for quoted in re.findall(r"\*\*([^*]+?)\*\*", re.sub(r"`[^`\n]*`", "", _prose(text))):
        quoted = " ".join(quoted.split())
        parts = [part.strip() for part in quoted.split("→")]
        if parts[0] in menus and len(parts) > 1 and parts[1] not in menus[parts[0]]:
            missing.append(f"{quoted} ({parts[1]} is not in the admin's {parts[0]} menu)")
        elif any(_normal(part) not in labels for part in parts):
            missing.append(quoted)
    return missing


@pytest.mark.parametrize(("name", "language"), EACH_GUIDE)
def test_every_label_a_guide_quotes_is_on_a_screen(name, language):
    labels = _labels(language, staff=name in STAFF_GUIDES)
    assert _missing_labels(_text(name, language), labels) == []


def test_a_label_no_screen_has_fails_the_guides_test():
    """The check itself: the agent's guide once sent agents to an "Answering" menu (it is "Answering
    desk") and to an outcome button that no template has."""
    labels = _labels("en", staff=True)
    assert _missing_labels("Open **Answering desk → Calls**, then **Book an appointment**.", labels) == []
    wrong = "Open **Answering → Calls**, then **Answering desk → Bookings** and **Put through to a lawyer**."
    assert _missing_labels(wrong, labels) == [
        "Answering → Calls",
        "Answering desk → Bookings (Bookings is not in the admin's Answering desk menu)",
        "Put through to a lawyer",
    ]
    estonian = _labels("et", staff=False)
    assert _missing_labels("**Broneeringud**, **Eesti**", estonian) == []
    assert _missing_labels("**Appointments**", estonian) == ["Appointments"]  # the Estonian portal says Broneeringud


@pytest.mark.parametrize("page", PAGES)
def test_the_commands_and_screenshots_each_page_names_exist(page):
    text = (ROOT / page).read_text()
    commands = set(re.findall(r"manage\.py (\w+)", text))
    if page == "README.md":  # its Commands table names them without the prefix
        commands |= set(re.findall(r"^\| `(\w+)[ `]", _commands_table(), re.M))
    for command in commands:
        assert command in get_commands(), f"{page} names a command that does not exist: {command}"
    for image in re.findall(r"\]\(((?:docs/|\.\./)?screenshots/[\w.-]+)\)", text):
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


def _is_socket(path: str) -> bool:
    """A WebSocket route of the ASGI application (config/asgi.py), or a prefix of one."""
    from desk.ws_urls import websocket_urlpatterns

    return any(f"/{pattern.pattern}".startswith(path) for pattern in websocket_urlpatterns)


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
        if path != HEALTH_PATH and not _is_socket(path):  # health: answered by HealthMiddleware
            assert _is_page(path, host), f"{page} names a page that does not exist: {path} ({host} host)"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_portal_screens_the_client_guide_names_are_the_portals(language):
    from portal.navigation import SCREENS

    with translation.override(language):  # a request earlier in the run may have left another active
        urls = {str(label): name for name, label, _admin in SCREENS}
        help_label = str(translation.gettext("Help"))
    named = set(re.findall(r"^- \*\*([^*]+)\*\*:", _text("client-admin", language), re.M))
    assert named, "the guide lists the screens"
    assert named - set(urls) == set(), "the guide names screens the portal does not have"
    for label in named:
        reverse(urls[label], urlconf="config.urls_tenant")  # the screen is built, not only listed
    assert set(urls) - named <= {help_label}, "a portal screen the guide does not describe"
    for path in re.findall(r"`(/api/v1/[\w-]+/[\w/-]*)`", _text("client-admin", language)):
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


@pytest.mark.django_db
def test_in_estonian_the_help_pages_are_the_estonian_guides(admin_for, client_for, acme_admin):
    from tenants.models import User

    portal = client_for("acme.localhost", acme_admin)
    portal.cookies[settings.LANGUAGE_COOKIE_NAME] = "et"
    page = portal.get("/help/").content.decode()
    assert '<html lang="et">' in page
    assert "Lepingu allkirjastamine" in page
    assert "Signing the agreement" not in page
    assert 'src="/help/screenshots/agreement-pending.png"' in page  # the shared pictures

    agent = admin_for(User.objects.get(username="agent1"), "acme")
    page = agent.get("/admin/help/agent/", HTTP_ACCEPT_LANGUAGE="et").content.decode()
    assert "Agendi juhend" in page
    assert "The agent's guide" not in page
    # The admin's banner links to a section by its English anchor, which the translation keeps.
    assert 'id="training-and-confidentiality"' in page
    english = agent.get("/admin/help/agent/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The agent's guide" in english
