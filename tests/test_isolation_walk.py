"""The isolation walk: every URL pattern of a client company's host, portal and API alike, from the
side of globex, who must never see acme's data.

- On acme's host, globex's admin (signed in, or with a globex API token) gets 404 on every route,
  whatever the id, and the attempt is in acme's access log.
- On globex's own host, every route that takes an id answers 404 for the ids of acme's records
  (public ones, such as agreement versions and memberships, and tenant ones that globex's schema
  lacks), by GET and by POST.
- No list, search or export on globex's host contains any of acme's values.

Routes are found by walking the URL resolver, so a new page or endpoint is covered the day it is
added. A route is only left out here with its reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.html import escape
from django_tenants.utils import schema_context

from audit.models import AccessLogEntry
from tenants.models import ClientCompany

pytestmark = pytest.mark.django_db

# Routes whose credential is not the session or token, or that hold nothing of a company's own.
NOT_WALKED = {
    r"^telephony/": "signed by the telephony provider, not a session: see the webhook tests",
    r"^calendar/": "the feed's secret token is its credential: scheduling/tests",
    r"^accounts/": "sign-in, sign-out and password reset hold no company data",
    r"^i18n/": "the language switch holds no company data",
    r"^api/v1/schema/": "the API's schema is the same for every company",
    r"^api/v1/docs/": "the API's documentation page is the same for every company",
}


@dataclass(frozen=True)
class Route:
    pattern: str  # e.g. "api/v1/messages/<int:pk>/"
    name: str | None

    def url(self, value: int | str = 0) -> str:
        return "/" + re.sub(r"<(?:\w+:)?\w+>", str(value), self.pattern)

    @property
    def takes_id(self) -> bool:
        return bool(re.search(r"<int:\w+>", self.pattern))

    @property
    def takes_other(self) -> bool:
        return bool(re.search(r"<(?!int:)(?:\w+:)?\w+>", self.pattern))


def _walk(patterns, prefix: str = ""):
    for entry in patterns:
        text = str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + text)
        elif isinstance(entry, URLPattern):
            yield Route(prefix + text.lstrip("^").rstrip("$"), entry.name)


def tenant_routes() -> list[Route]:
    routes = {r for r in _walk(get_resolver("config.urls_tenant").url_patterns)}
    return sorted((r for r in routes if not any(re.match(skip, r.pattern) for skip in NOT_WALKED)),
                  key=lambda r: r.pattern)  # fmt: skip


ROUTES = tenant_routes()


def test_the_walk_finds_the_portal_and_the_api():
    patterns = {r.pattern for r in ROUTES}
    assert "" in patterns
    assert "api/v1/messages/<int:pk>/" in patterns
    assert len(ROUTES) >= 10


def _acme_ids(acme, globex) -> list[int]:
    """Ids of acme's records that globex's schema does not have, per tenant model (two each), and of
    the public records that belong to acme."""
    from tenants.agreements.models import AgreementVersion, SubProcessor
    from tenants.models import Membership

    tenant_models = [m for m in apps.get_models() if m._meta.app_label in
                     {"answering", "crm", "scheduling", "audit", "timers"} and not m._meta.proxy]  # fmt: skip
    ids: set[int] = set()
    for model in tenant_models:
        with schema_context(globex.schema_name):
            theirs = set(model.objects.values_list("pk", flat=True))
        with schema_context(acme.schema_name):
            mine = [pk for pk in model.objects.order_by("-pk").values_list("pk", flat=True)[:50] if pk not in theirs]
        ids |= {pk for pk in mine[:2] if isinstance(pk, int)}
    ids |= set(AgreementVersion.objects.filter(agreement__company=acme).values_list("pk", flat=True))
    ids |= set(SubProcessor.objects.filter(version__agreement__company=acme).values_list("pk", flat=True))
    ids |= set(Membership.objects.filter(company=acme).values_list("pk", flat=True))
    ids |= set(Membership.objects.filter(company=acme).values_list("user_id", flat=True))
    for label in ("tokens.ApiToken", "tenants.ApiToken"):
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        ids |= set(model.objects.filter(company=acme).values_list("pk", flat=True))
    return sorted(ids)


def _acme_values(acme) -> set[str]:
    """Values only acme's pages would show: its name, numbers, callers, agreement text."""
    from crm.models import Contact
    from tenants.agreements.models import AgreementVersion

    values = {acme.name, "acme-admin", "admin@acme.example", "+3726001001", "+3726001002"}
    with schema_context(acme.schema_name):
        for contact in Contact.objects.all()[:30]:
            values |= {v for v in (contact.name, contact.phone_number, contact.email) if v and len(v) > 4}
    for version in AgreementVersion.objects.filter(agreement__company=acme):
        values |= set(version.sub_processors.values_list("name", flat=True))
    return values


def _request(client, route: Route, value, **extra):
    url = route.url(value)
    response = client.get(url, **extra)
    if response.status_code == 405:
        response = client.post(url, **extra)
    return response


def test_on_acmes_host_globex_gets_404_on_every_route(client_for, acme, globex, globex_admin):
    client = client_for("acme.localhost", globex_admin)
    ids = _acme_ids(acme, globex)[:5] or [1]
    with schema_context("acme"):
        before = AccessLogEntry.objects.filter(refused=True, user=globex_admin).count()
    statuses = {}
    for route in ROUTES:
        for value in ids if route.takes_id else ["x"] if route.takes_other else [None]:
            response = _request(client, route, value if value is not None else 0)
            statuses[route.url(value if value is not None else 0)] = response.status_code
    assert {url: code for url, code in statuses.items() if code != 404} == {}
    with schema_context("acme"):
        assert AccessLogEntry.objects.filter(refused=True, user=globex_admin).count() - before == len(statuses)


def test_on_globex_host_acmes_ids_are_404_everywhere(client_for, acme, globex, globex_admin):
    client = client_for("globex.localhost", globex_admin)
    ids = _acme_ids(acme, globex)
    assert len(ids) > 5
    wrong = {}
    for route in (r for r in ROUTES if r.takes_id):
        for pk in ids:
            for method in ("get", "post"):
                response = getattr(client, method)(route.url(pk))
                if response.status_code not in (404, 405):
                    wrong[f"{method.upper()} {route.url(pk)}"] = response.status_code
    assert wrong == {}


SEARCH_PARAMS = ("q", "search", "phone", "name", "contact", "caller")


def test_no_list_search_or_export_on_globex_host_holds_acmes_values(client_for, acme, globex, globex_admin):
    client = client_for("globex.localhost", globex_admin)
    values = _acme_values(acme)
    leaks = {}
    with schema_context(acme.schema_name):
        probes = sorted(values)[:6]
    for route in (r for r in ROUTES if not r.takes_id and not r.takes_other):
        urls = [(route.url(), ""), (route.url() + "?format=csv", ""), (route.url() + "?export=csv", "")]
        urls += [(f"{route.url()}?{param}={quote(probe)}", probe) for param in SEARCH_PARAMS for probe in probes[:2]]
        for url, probe in urls:
            response = client.get(url)
            if response.status_code >= 500:
                leaks[url] = f"server error {response.status_code}"
                continue
            body = b"".join(response.streaming_content) if response.streaming else response.content
            text = body.decode(errors="replace")
            if probe:  # what the searcher typed may be echoed back (a search box, a link); it is theirs
                for echoed in {probe, quote(probe), quote_plus(probe), escape(probe)}:
                    text = text.replace(echoed, "")
            found = sorted(v for v in values if v in text)
            if found:
                leaks[url] = found
    assert leaks == {}


def test_walk_covers_every_client_company_route_name():
    """Every named route of the tenant host is either walked or excluded with a reason."""
    walked = {r.name for r in ROUTES}
    everything = {r.name for r in _walk(get_resolver("config.urls_tenant").url_patterns)}
    excluded = everything - walked
    reasons = {r.name: next((why for skip, why in NOT_WALKED.items() if re.match(skip, r.pattern)), None)
               for r in _walk(get_resolver("config.urls_tenant").url_patterns) if r.name in excluded}  # fmt: skip
    assert {name: why for name, why in reasons.items() if not why} == {}
    assert ClientCompany.objects.filter(schema_name__in=["acme", "globex"]).count() == 2
