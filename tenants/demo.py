"""The demo world: provider staff, three client companies and their admins.

Idempotent: every record is looked up before it is made, and nothing that exists is changed, so a
second run changes nothing. Later issues add their demo data through `DEMO_EXTENSIONS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django_tenants.utils import tenant_context

from tenants.models import Assignment, ClientCompany, Membership, User
from tenants.services import client_onboard, provider_ensure, template_ensure

DEMO_PASSWORD = "demo-pass-123"


@dataclass(frozen=True)
class DemoCompany:
    slug: str
    name: str
    time_zone: str


COMPANIES = [
    DemoCompany("acme", "Acme Dental Clinic", "Europe/Tallinn"),
    DemoCompany("globex", "Globex Law Firm", "Europe/Helsinki"),
    DemoCompany("initech", "Initech Software", "Europe/Tallinn"),
]
STAFF = [
    ("agent1", User.ProviderRole.AGENT, ["acme", "globex"]),
    ("agent2", User.ProviderRole.AGENT, ["globex", "initech"]),
    ("supervisor", User.ProviderRole.SUPERVISOR, ["acme", "globex", "initech"]),
    ("dpo", User.ProviderRole.DPO, ["acme", "globex", "initech"]),
    ("provider-admin", User.ProviderRole.PROVIDER_ADMIN, []),
]
LINES = {
    "acme": [("Acme Dental reception", "+3726001001"), ("Acme Dental emergencies", "+3726001002")],
    "globex": [("Globex Law main line", "+3726002001")],
    "initech": [("Initech support", "+3726003001")],
}

# Later issues append a function (company_slug -> None) that seeds their data inside each company.
DEMO_EXTENSIONS: list[Callable[[str], None]] = []


def tenant_domain(slug: str) -> str:
    return f"{slug}.{settings.TENANT_DOMAIN_SUFFIX}"


def demo_seed(*, log: Callable[[str], None] = print) -> dict[str, ClientCompany]:
    """Create (or find) the whole demo world. Returns the client companies by slug."""
    from answering.models import Line  # the demo spans every app; tenants' own code does not

    provider_ensure(domain=settings.PUBLIC_HOST)
    log("  template schema")
    template_ensure()

    companies = {}
    for demo in COMPANIES:
        company = ClientCompany.objects.filter(schema_name=demo.slug).first()
        if company is None:
            log(f"  onboarding {demo.slug} ({demo.name})")
            company = client_onboard(
                slug=demo.slug, name=demo.name, domain=tenant_domain(demo.slug), time_zone=demo.time_zone
            )
        else:
            log(f"  {demo.slug} exists")
        companies[demo.slug] = company

    for username, role, slugs in STAFF:
        user = _user_ensure(
            username, provider_role=role, is_staff=True, is_superuser=role == User.ProviderRole.PROVIDER_ADMIN
        )
        for slug in slugs:
            Assignment.objects.get_or_create(user=user, company=companies[slug])

    for slug, company in companies.items():
        admin = _user_ensure(f"{slug}-admin", provider_role="", is_staff=False, is_superuser=False)
        Membership.objects.get_or_create(user=admin, company=company, defaults={"role": Membership.Role.CLIENT_ADMIN})
        with tenant_context(company):
            for name, number in LINES[slug]:
                Line.objects.get_or_create(phone_number=number, defaults={"name": name})
            for extend in DEMO_EXTENSIONS:
                extend(slug)
    return companies


def _user_ensure(username: str, *, provider_role: str, is_staff: bool, is_superuser: bool) -> User:
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"provider_role": provider_role, "is_staff": is_staff, "is_superuser": is_superuser},
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user
