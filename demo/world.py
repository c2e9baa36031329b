"""The demo world: provider staff, three client companies and their admins.

Idempotent: every record is looked up before it is made, and nothing that exists is changed, so a
second run changes nothing. Each app's own data comes from its module in this package.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django_tenants.utils import tenant_context
from guardian.shortcuts import assign_perm

from audit.sealing import audit_seal
from demo.risks import risks_demo_seed
from demo.training import training_demo_seed
from gates.context import system_context
from tenants.models import Assignment, ClientCompany, Membership, User
from tenants.services import client_onboard, provider_ensure, template_ensure

DEMO_PASSWORD = "demo-pass-123"
# RFC 6238's test secret ("12345678901234567890"); base32 for authenticator apps.
DEMO_TOTP_KEY_HEX = "3132333435363738393031323334353637383930"
DEMO_TOTP_KEY_BASE32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


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
    ("agent1", User.ProviderRole.AGENT, ["acme", "globex", "initech"]),
    ("agent2", User.ProviderRole.AGENT, ["acme"]),
    ("supervisor", User.ProviderRole.SUPERVISOR, ["acme", "globex", "initech"]),
    ("dpo", User.ProviderRole.DPO, ["acme", "globex", "initech"]),
    ("provider-admin", User.ProviderRole.PROVIDER_ADMIN, []),
]
LINES = {
    "acme": [("Acme Dental reception", "+3726001001"), ("Acme Dental emergencies", "+3726001002")],
    "globex": [("Globex Law main line", "+3726002001")],
    "initech": [("Initech support", "+3726003001")],
}

# Line grants (guardian's answering.view_line): agent1 on every line, agent2 on one acme line only.
LINE_GRANTS = {"agent1": None, "agent2": ["+3726001001"]}

# The three companies' agreements: acme grants agents contact details, content and voice but not
# health; globex only names and content, so agents never see a caller's number; initech has only
# a submitted version, so agents see no personal field there.
DPA_GRANTS = {
    "acme": [
        "user.contact.name",
        "user.contact.phone_number",
        "user.contact.email",
        "user.content.private",
        "user.biometrics.voice",
    ],
    "globex": ["user.contact.name", "user.content.private"],
    "initech": ["user.contact.name", "user.contact.phone_number", "user.content.private"],
}
DPA_ACTIVE = {"acme", "globex"}
# Courses each DPA requires of agents and supervisors (demo/training.py makes them).
DPA_COURSES = {"acme": ["health-data"]}
# Each DPA's breach clause: how soon the provider must tell the client of an incident.
BREACH_HOURS = {"acme": 24, "globex": 36, "initech": 48}
# Each DPA's sub-processors (GDPR Art. 28(2)): Twilio for telephony everywhere, and for SMS where
# the client wants it (globex's names no SMS sub-processor, so nothing of globex's goes by SMS); the
# e-mail provider behind EMAIL_URL for acme and globex only (initech's names none).
TWILIO_SERVICES = {"acme": ["voice", "sms"], "globex": ["voice"], "initech": ["voice", "sms"]}
EMAIL_PROVIDER_FOR = {"acme", "globex"}


def _company_seeders() -> list[Callable[[str, bool], None]]:
    """Each app's seeder, (company_slug, rich) -> None, run inside each company in this order (the
    audit's counts the calls the answering desk's made). `rich` adds the volume a person exploring the
    demo wants; the test suite seeds without it."""
    from demo.answering import answering_demo
    from demo.audit import audit_demo
    from demo.billing import billing_demo
    from demo.scheduling import scheduling_demo

    return [answering_demo, scheduling_demo, audit_demo, billing_demo]


# The provider's break reason codes, and the languages each agent answers in.
BREAK_REASONS = [
    ("lunch", "Lunch"),
    ("training", "Training"),
    ("coaching", "Coaching"),
    ("technical", "Technical problem"),
]
AGENT_LANGUAGES = {"agent1": ["et", "en"], "agent2": ["et", "en", "ru"], "supervisor": ["et", "en"]}


def desk_demo_seed(*, staff: dict[str, User]) -> None:
    from desk.models import BreakReason, Presence

    for code, label in BREAK_REASONS:
        BreakReason.objects.get_or_create(code=code, defaults={"label": label})
    for username, languages in AGENT_LANGUAGES.items():
        Presence.objects.get_or_create(user=staff[username], defaults={"since": timezone.now(), "languages": languages})


def tenant_domain(slug: str) -> str:
    return f"{slug}.{settings.TENANT_DOMAIN_SUFFIX}"


@system_context(reason="seed the demo world")
def demo_seed(*, log: Callable[[str], None] = print, rich: bool = True) -> dict[str, ClientCompany]:
    """Create (or find) the whole demo world. Returns the client companies by slug."""
    from answering.models import Call, Line  # the demo spans every app; tenants' own code does not

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

    staff = {}
    for username, role, slugs in STAFF:
        # The provider admin runs the platform's own records; the gates give the role no personal field.
        # Staff have addresses so that monitoring's alerts reach the DPO and the supervisors.
        staff[username] = user = _user_ensure(
            username,
            provider_role=role,
            is_staff=True,
            is_superuser=role == User.ProviderRole.PROVIDER_ADMIN,
            email=f"{username}@provider.example",
        )
        _totp_ensure(user)
        for slug in slugs:
            Assignment.objects.get_or_create(user=user, company=companies[slug])
    log("  staff commitments and training")
    training_demo_seed(staff=staff, recorder=staff["dpo"])

    for slug, company in companies.items():
        company.refresh_from_db()
        admin = _user_ensure(
            f"{slug}-admin", provider_role="", is_staff=False, is_superuser=False, email=f"admin@{slug}.example"
        )
        Membership.objects.get_or_create(user=admin, company=company, defaults={"role": Membership.Role.CLIENT_ADMIN})
        if not hasattr(company, "agreement"):
            log(f"  {slug}: data-processing agreement")
            _dpa_seed(company, admin=admin, dpo=staff["dpo"], drafter=staff["provider-admin"])
        with tenant_context(company):
            for name, number in LINES[slug]:
                line, _ = Line.objects.get_or_create(phone_number=number, defaults={"name": name})
                for username, numbers in LINE_GRANTS.items():
                    user = staff[username]
                    if Assignment.objects.filter(user=user, company=company).exists() and (
                        numbers is None or number in numbers
                    ):
                        assign_perm("answering.view_line", user, line)
            if not Call.objects.exists():
                _calls_seed(slug)
            for extend in _company_seeders():
                extend(slug, rich)
    log("  risk register")
    risks_demo_seed(companies=companies, dpo=staff["dpo"])
    log("  the desk's break reasons and the agents' languages")
    desk_demo_seed(staff=staff)
    log("  sealing the audit chains")
    for company in companies.values():
        with tenant_context(company):
            audit_seal()
    return companies


CALLERS = [
    ("Mari Tamm", "+37251234501", "mari.tamm@example.ee"),
    ("Jaan Kask", "+37251234502", "jaan.kask@example.ee"),
    ("Liis Saar", "+37251234503", "liis.saar@example.ee"),
    ("Peeter Mets", "+37251234504", "peeter.mets@example.ee"),
]


def _calls_seed(slug: str) -> None:
    """A few callers and a day of calls on each line, so every screen has something to show."""
    import datetime as dt

    from django.utils import timezone

    from answering.models import Call, Line
    from crm.models import Contact

    start = timezone.now().replace(minute=0, second=0, microsecond=0) - dt.timedelta(days=1)
    contacts = [
        Contact.objects.create(
            name=name, phone_number=phone, email=email, notes=f"Prefers morning calls ({slug})", restricted=(i == 0)
        )
        for i, (name, phone, email) in enumerate(CALLERS)
    ]
    for n, line in enumerate(Line.objects.order_by("phone_number")):
        for i, contact in enumerate(contacts):
            Call.objects.create(
                line=line,
                telephony_sid=f"CA{slug[:4]}{n:02d}{i:02d}".ljust(34, "0"),
                started_at=start + dt.timedelta(hours=2 * i + n),
                caller_number=contact.phone_number,
                caller_name=contact.name,
                notes=f"Asked for a call back about their {('booking', 'invoice', 'case', 'order')[i]}",
                contact=contact,
            )


def _totp_ensure(user: User) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.get_or_create(user=user, name="demo", defaults={"key": DEMO_TOTP_KEY_HEX, "confirmed": True})


def _dpa_seed(company: ClientCompany, *, admin: User, dpo: User, drafter: User) -> None:
    import datetime as dt

    from django.utils import timezone

    from compliance.agreements import services as dpa
    from compliance.training.models import Course

    today = timezone.localdate()
    version = dpa.dpa_draft_create(
        company=company,
        actor=drafter,
        subject_matter=f"Outsourced call answering for {company.name}",
        nature_and_purpose="Answering inbound calls, taking messages and booking appointments on the client's behalf",
        start_date=today - dt.timedelta(days=30),
        end_date=today + dt.timedelta(days=365),
        data_subject_categories="Callers of the client company: its customers, patients or prospects",
        security_measures="Encryption at rest and in transit, role- and object-based access, MFA, audit trail",
        data_subject_rights_assistance="Requests are forwarded to the client within 2 working days",
        end_of_processing="delete",
        audit_rights="The client may audit once a year with 30 days' notice; evidence packs on request",
        staff_confidentiality="All agents sign a confidentiality commitment before access",
        breach_notification_hours=BREACH_HOURS[company.schema_name],
    )
    for category in DPA_GRANTS[company.schema_name]:
        for role in ("agent", "supervisor"):
            for action in ("read", "write"):
                dpa.dpa_grant_add(version=version, role=role, category=category, action=action, actor=drafter)
        days = 90 if category.startswith("user.biometrics") else 365
        dpa.dpa_retention_set(version=version, category=category, days=days, actor=drafter)
    slug = company.schema_name
    dpa.dpa_sub_processor_add(
        version=version,
        name=settings.TWILIO_SUBPROCESSOR or "Twilio Ireland Ltd",
        purpose="Telephony" + (" and SMS" if "sms" in TWILIO_SERVICES[slug] else ""),
        location="EU (Ireland)",
        services=TWILIO_SERVICES[slug],
        regions=["EEA"],
        categories=["user.contact", "user.content.private", "user.biometrics.voice", "user.schedule"],
        authorised_on=today - dt.timedelta(days=60),
        actor=drafter,
    )
    if slug in EMAIL_PROVIDER_FOR:
        dpa.dpa_sub_processor_add(
            version=version,
            name=settings.EMAIL_SUBPROCESSOR or "Demo Mail OÜ",
            purpose="E-mail delivery",
            location="EU (Estonia)",
            services=["email"],
            regions=["EEA"],
            categories=["user.contact", "user.content.private", "user.schedule"],
            authorised_on=today - dt.timedelta(days=60),
            actor=drafter,
        )
    for code in DPA_COURSES.get(company.schema_name, []):
        dpa.dpa_course_require(version=version, course=Course.objects.get(code=code), actor=drafter)
    dpa.dpa_submit(version=version, actor=drafter)
    if company.schema_name in DPA_ACTIVE:
        dpa.dpa_sign_for_client(version=version, actor=admin)
        dpa.dpa_review_start(version=version, actor=dpo)
        dpa.dpa_approve(version=version, actor=dpo)
        dpa.dpa_activate(version=version, actor=dpo)


def _user_ensure(username: str, *, provider_role: str, is_staff: bool, is_superuser: bool, email: str = "") -> User:
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"provider_role": provider_role, "is_staff": is_staff, "is_superuser": is_superuser, "email": email},
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user
