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
    return sorted(
        (r for r in routes if not any(re.match(skip, r.pattern) for skip in NOT_WALKED)), key=lambda r: r.pattern
    )


ROUTES = tenant_routes()


def test_the_walk_finds_the_portal_and_the_api():
    patterns = {r.pattern for r in ROUTES}
    assert "" in patterns
    assert "api/v1/messages/<int:pk>/" in patterns
    assert len(ROUTES) >= 10


FAR = 7_000_000  # no record of globex, in its schema or the public one, has an id this high


@pytest.fixture
def acme_ids(acme):
    """Records of acme, in its schema and in the public one, with ids no globex record has: on
    globex's host each of them must be a 404, never a globex record that happens to share the id."""
    import datetime as dt

    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from answering.models import Call, Line, Message, Voicemail
    from audit.models import DataSubjectRequest, EvidencePack
    from compliance.agreements.models import Agreement, AgreementVersion, SubProcessor
    from crm.models import Contact
    from scheduling.models import Appointment, Resource, Service
    from tenants.models import Membership, User

    now = timezone.now()
    far_future, half_hour = now + dt.timedelta(days=3650), dt.timedelta(minutes=30)
    admin = User.objects.get(username="acme-admin")
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001001")
        contact = Contact.objects.create(pk=FAR + 1, name="Farah Acmeson", phone_number="+37255577001")
        call = Call.objects.create(
            pk=FAR + 2,
            line=line,
            telephony_sid="CA" + "7" * 32,
            started_at=now,
            caller_number="+37255577001",
            contact=contact,
        )
        Message.objects.create(pk=FAR + 3, line=line, call=call, contact=contact, body="Far message")
        Voicemail.objects.create(pk=FAR + 4, call=call, recording_sid="RE" + "7" * 32, audio="none")
        Appointment.objects.create(
            pk=FAR + 5,
            resource=Resource.objects.first(),
            service=Service.objects.first(),
            contact=contact,
            starts_at=far_future,
            ends_at=far_future + half_hour,
            blocked=(far_future, far_future + half_hour),
        )
        DataSubjectRequest.objects.create(
            pk=FAR + 6, kind="access", phone_number="+37255577001", raised_by=admin, due_at=now + dt.timedelta(days=30)
        )
        EvidencePack.objects.create(pk=FAR + 7, requested_by=admin, file="none", sha256="0" * 64, size=0)
    version = AgreementVersion.objects.create(pk=FAR + 8, agreement=Agreement.objects.get(company=acme), number=99)
    SubProcessor.objects.create(
        pk=FAR + 9, version=version, name="Far Sub Ltd", purpose="testing", location="EE", authorised_on=now.date()
    )
    member = User.objects.create_user("acme-far-member", password="x", pk=FAR + 10)
    Membership.objects.create(pk=FAR + 11, user=member, company=acme, role=Membership.Role.CLIENT_MEMBER)
    ids = list(range(FAR + 1, FAR + 12))
    for label in ("tokens.ApiToken", "tenants.ApiToken"):
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        ids += list(model.objects.filter(company=acme).values_list("pk", flat=True))
    return ids


def _values(company) -> set[str]:
    """Values a company's pages would show: its name, numbers, callers, sub-processors."""
    from answering.models import Line
    from compliance.agreements.models import SubProcessor
    from crm.models import Contact

    values = {company.name, f"{company.schema_name}-admin", f"admin@{company.schema_name}.example"}
    with schema_context(company.schema_name):
        values |= set(Line.objects.values_list("phone_number", flat=True))
        for contact in Contact.objects.all()[:50]:
            values |= {v for v in (contact.name, contact.phone_number, contact.email) if v and len(v) > 4}
    values |= set(SubProcessor.objects.filter(version__agreement__company=company).values_list("name", flat=True))
    return values


def _acme_values(acme, globex) -> set[str]:
    """Acme's values that are not also globex's own (the demo's companies share a sub-processor)."""
    return _values(acme) - _values(globex)


def _request(client, route: Route, value, **extra):
    url = route.url(value)
    response = client.get(url, **extra)
    if response.status_code == 405:
        response = client.post(url, **extra)
    return response


def test_on_acmes_host_globex_gets_404_on_every_route(client_for, acme, globex, globex_admin, acme_ids):
    client = client_for("acme.localhost", globex_admin)
    ids = acme_ids[:3]
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


def test_on_globex_host_acmes_ids_are_404_everywhere(client_for, globex_admin, acme_ids):
    client = client_for("globex.localhost", globex_admin)
    ids = acme_ids
    wrong = {}
    for route in (r for r in ROUTES if r.takes_id):
        for pk in ids:
            for method in ("get", "post"):
                response = getattr(client, method)(route.url(pk))
                if response.status_code not in (404, 405):
                    wrong[f"{method.upper()} {route.url(pk)}"] = response.status_code
    assert wrong == {}


SEARCH_PARAMS = ("q", "search", "phone", "name", "contact", "caller")


def test_no_list_search_or_export_on_globex_host_holds_acmes_values(client_for, acme, globex, globex_admin, acme_ids):
    client = client_for("globex.localhost", globex_admin)
    values = _acme_values(acme, globex)
    assert {"Farah Acmeson", "+37255577001", "Far Sub Ltd"} <= values
    leaks = {}
    probes = ["Farah Acmeson", "+37255577001"]  # acme's caller: by whole name (blind index) and by number
    for route in (r for r in ROUTES if not r.takes_id and not r.takes_other):
        urls = [(route.url(), ""), (route.url() + "?format=csv", ""), (route.url() + "?export=csv", "")]
        urls += [(f"{route.url()}?{param}={quote(probe)}", probe) for param in SEARCH_PARAMS for probe in probes]
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
    reasons = {
        r.name: next((why for skip, why in NOT_WALKED.items() if re.match(skip, r.pattern)), None)
        for r in _walk(get_resolver("config.urls_tenant").url_patterns)
        if r.name in excluded
    }
    assert {name: why for name, why in reasons.items() if not why} == {}
    assert ClientCompany.objects.filter(schema_name__in=["acme", "globex"]).count() == 2


@pytest.fixture
def globex_token(globex, globex_admin) -> str:
    from api.tokens.scopes import ALL_SCOPES
    from api.tokens.services import token_create

    _token, secret = token_create(
        company=globex,
        user=globex_admin,
        name="isolation walk",
        scopes=ALL_SCOPES,
        expires_in_days=1,
        actor=globex_admin,
    )
    return secret


def test_with_globex_token_acmes_ids_are_404_on_globex_host_and_acmes_host_refuses_it(
    client_for, globex_token, acme_ids
):
    """A token is a credential for its own company's host only: on acme's host it is refused (401)
    on every API route, and on globex's host every one of acme's ids is a 404."""
    api_routes = [r for r in ROUTES if r.pattern.startswith("api/v1/")]
    assert api_routes
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {globex_token}"}
    on_acme = client_for("acme.localhost")
    on_globex = client_for("globex.localhost")
    wrong = {}
    for route in api_routes:
        for pk in acme_ids if route.takes_id else [None]:
            url = route.url(pk if pk is not None else "x")
            for method in ("get", "post"):
                refused = getattr(on_acme, method)(url, **bearer)
                if refused.status_code not in (401, 404, 405):
                    wrong[f"acme host {method.upper()} {url}"] = refused.status_code
                if route.takes_id:
                    response = getattr(on_globex, method)(url, **bearer)
                    if response.status_code not in (404, 405):
                        wrong[f"globex host {method.upper()} {url}"] = response.status_code
    assert wrong == {}
