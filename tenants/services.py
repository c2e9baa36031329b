"""Writes on client companies: onboard, suspend, resume, offboard.

Onboarding clones the migrated template schema (`settings.TENANT_BASE_SCHEMA`) instead of running
every migration for each new company.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_exists, tenant_context

from tenants.changelog import change_log_actor
from tenants.errors import ApplicationError
from tenants.files import company_folder_files, encrypted_file_delete, stored_file_fields
from tenants.keys import keys_destroy, keys_ensure
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
    with change_log_actor(actor):
        company = ClientCompany.objects.create(schema_name=slug, name=name, time_zone=time_zone)
    try:
        company.create_schema(check_if_exists=True, verbosity=verbosity)
    except Exception:
        # Leave nothing half-made: no row without a schema, no schema without a row.
        company.delete(force_drop=True)
        raise
    Domain.objects.create(domain=domain, tenant=company, is_primary=True)
    with transaction.atomic():
        keys_ensure(company.pk)
    return company


def client_suspend(*, company: ClientCompany, reason: str, actor: User | None = None) -> ClientCompany:
    """Suspend a client company: its portal and API answer 403, and agents lose access to it."""
    with transaction.atomic(durable=True), _in_public_log(actor):
        company = _locked(company)
        if company.status == ClientCompany.Status.OFFBOARDED:
            raise ApplicationError("an offboarded client company cannot be suspended", field="status")
        return _status_set(company=company, status=ClientCompany.Status.SUSPENDED, reason=reason)


def client_resume(*, company: ClientCompany, actor: User | None = None) -> ClientCompany:
    """Lift a suspension."""
    with transaction.atomic(durable=True), _in_public_log(actor):
        company = _locked(company)
        if company.status == ClientCompany.Status.OFFBOARDED:
            raise ApplicationError("an offboarded client company cannot be resumed", field="status")
        return _status_set(company=company, status=ClientCompany.Status.ACTIVE, reason="")


def client_offboard(*, company: ClientCompany, reason: str, actor: User | None = None) -> ClientCompany:
    """End the service: the company's hosts stop routing, its people lose access, and its schema
    is dropped. Its data is gone; export it first, under the DPA's terms. Then its keys are
    destroyed (crypto-shredding, tenants/keys.py): every backup of it, wherever it lies, becomes
    unreadable, and the change log records who, when and which key versions.

    One unit: the removals, the schema's drop (PostgreSQL's DDL is transactional) and the status
    change with its change-log entry commit together, or none of them does. The company's stored
    files (audio, exports: those its rows name, and whatever else lies in its own folders), which
    no rollback could bring back, are deleted only once it has.
    """
    with transaction.atomic(durable=True), _in_public_log(actor):
        company = _locked(company)
        if company.status == ClientCompany.Status.OFFBOARDED:
            raise ApplicationError("this client company is already offboarded", field="status")
        files = _stored_file_names(company) | company_folder_files(company.schema_name)
        company.domains.all().delete()
        company.memberships.all().delete()  # one change-log entry per membership, with the actor
        company.assignments.all().delete()
        company._drop_schema(force_drop=True)
        keys_destroy(company_id=company.pk)  # one change-log entry per key version, with the actor
        _status_set(company=company, status=ClientCompany.Status.OFFBOARDED, reason=reason)
        transaction.on_commit(lambda: [encrypted_file_delete(name) for name in sorted(files)])
    return company


@contextlib.contextmanager
def _in_public_log(actor: User | None) -> Iterator[None]:
    """Run on the public schema, naming the actor: the change log of a company's lifecycle is the
    public one (its own is dropped with its schema)."""
    connection.set_schema_to_public()
    with change_log_actor(actor):
        yield


def _locked(company: ClientCompany) -> ClientCompany:
    """The company, locked against a concurrent status change and read again under the lock."""
    if not company.is_client:
        raise ApplicationError("only a client company has a status to change", field="company")
    locked = ClientCompany.objects.select_for_update().get(pk=company.pk)
    for name in ("status", "status_reason", "status_changed_at"):
        setattr(company, name, getattr(locked, name))  # the caller's instance follows what is stored
    return company


def _status_set(*, company: ClientCompany, status: str, reason: str) -> ClientCompany:
    company.status = status
    company.status_reason = reason
    company.status_changed_at = timezone.now()
    company.full_clean()
    company.save(update_fields=["status", "status_reason", "status_changed_at"])  # in the change log
    return company


def _stored_file_names(company: ClientCompany) -> set[str]:
    """The files the company's rows name (tenants.files.stored_files), read before the drop: a
    system read of its own rows, for the one job of deleting them."""
    names: set[str] = set()
    with tenant_context(company):
        for model, fields in stored_file_fields().items():
            for field in fields:
                names.update(model.objects.exclude(**{field: ""}).values_list(field, flat=True))
    return names


def _validate_time_zone(name: str) -> None:
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ApplicationError(f"'{name}' is not a known IANA time zone", field="time_zone") from None
