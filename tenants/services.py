"""Writes on client companies: onboard, suspend, resume, offboard.

Onboarding clones the migrated template schema (`settings.TENANT_BASE_SCHEMA`) instead of running
every migration for each new company.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_exists

from tenants.errors import ApplicationError
from tenants.models import ClientCompany, Domain, User

SLUG_RE = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
RESERVED_SLUGS = {get_public_schema_name(), settings.TENANT_BASE_SCHEMA, "www", "admin", "api", "static"}


def provider_ensure(*, domain: str) -> ClientCompany:
    """The public-schema row that routes the provider's own host (the admin). Idempotent."""
    company, _ = ClientCompany.objects.get_or_create(
        schema_name=get_public_schema_name(),
        defaults={"name": "Answering service provider", "kind": ClientCompany.Kind.PROVIDER},
    )
    Domain.objects.update_or_create(domain=domain, defaults={"tenant": company, "is_primary": True})
    return company


def template_ensure(*, verbosity: int = 0) -> ClientCompany:
    """The template schema that new client companies are cloned from, created and migrated once.

    `migrate_schemas` keeps it current afterwards, because it is a row like any tenant.
    """
    template, _ = ClientCompany.objects.get_or_create(
        schema_name=settings.TENANT_BASE_SCHEMA,
        defaults={"name": "Template schema", "kind": ClientCompany.Kind.TEMPLATE},
    )
    if not schema_exists(template.schema_name):
        # Its own base schema does not exist yet, so django-tenants migrates it from scratch.
        template.create_schema(check_if_exists=True, verbosity=verbosity)
    return template


def client_onboard(
    *,
    slug: str,
    name: str,
    domain: str,
    time_zone: str = "Europe/Tallinn",
    actor: User | None = None,
    verbosity: int = 0,
) -> ClientCompany:
    """Create a client company: its row, its domain, and its schema cloned from the template."""
    if not SLUG_RE.match(slug) or slug in RESERVED_SLUGS:
        raise ApplicationError(
            f"'{slug}' is not a usable slug: use 2-41 lowercase letters, digits or '_', starting with a letter",
            field="slug",
        )
    if ClientCompany.objects.filter(schema_name=slug).exists():
        raise ApplicationError(f"a client company with the slug '{slug}' already exists", field="slug")
    if Domain.objects.filter(domain=domain).exists():
        raise ApplicationError(f"the domain '{domain}' is already in use", field="domain")
    _validate_time_zone(time_zone)

    template_ensure(verbosity=verbosity)
    connection.set_schema_to_public()
    company = ClientCompany.objects.create(schema_name=slug, name=name, time_zone=time_zone)
    try:
        company.create_schema(check_if_exists=True, verbosity=verbosity)
    except Exception:
        # Leave nothing half-made: no row without a schema, no schema without a row.
        company.delete(force_drop=True)
        raise
    Domain.objects.create(domain=domain, tenant=company, is_primary=True)
    return company


def client_suspend(*, company: ClientCompany, reason: str, actor: User | None = None) -> ClientCompany:
    """Suspend a client company: its portal and API answer 403, and agents lose access to it."""
    return _status_set(company=company, status=ClientCompany.Status.SUSPENDED, reason=reason)


def client_resume(*, company: ClientCompany, actor: User | None = None) -> ClientCompany:
    """Lift a suspension."""
    if company.status == ClientCompany.Status.OFFBOARDED:
        raise ApplicationError("an offboarded client company cannot be resumed", field="status")
    return _status_set(company=company, status=ClientCompany.Status.ACTIVE, reason="")


@transaction.atomic
def client_offboard(*, company: ClientCompany, reason: str, actor: User | None = None) -> ClientCompany:
    """End the service: the company's hosts stop routing, its people lose access, and its schema
    is dropped. Its data is gone; export it first, under the DPA's terms."""
    if not company.is_client:
        raise ApplicationError("only a client company can be offboarded", field="company")
    company.domains.all().delete()
    company.memberships.all().delete()
    company.assignments.all().delete()
    connection.set_schema_to_public()
    company._drop_schema(force_drop=True)
    return _status_set(company=company, status=ClientCompany.Status.OFFBOARDED, reason=reason)


def _status_set(*, company: ClientCompany, status: str, reason: str) -> ClientCompany:
    if not company.is_client:
        raise ApplicationError("only a client company has a status to change", field="company")
    connection.set_schema_to_public()
    company.status = status
    company.status_reason = reason
    company.status_changed_at = timezone.now()
    company.full_clean()
    company.save(update_fields=["status", "status_reason", "status_changed_at"])
    return company


def _validate_time_zone(name: str) -> None:
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ApplicationError(f"'{name}' is not a known IANA time zone", field="time_zone") from None
