"""`migrate_schemas` that skips the schemas already up to date, found with one query over all.

django-tenants runs Django's `migrate` once per schema, even when nothing is pending, so a no-op
deploy grows linearly with the companies (0.06-0.8 s each). This wraps whichever executor was
asked for (`--executor`, default `standard`): before it runs, one SQL statement counts, in every
schema at once, how many of the migrations on disk its `django_migrations` table records. The
schemas that record all of them are skipped; the rest go to the chosen executor as before,
except a schema that lacks only migrations of public-only apps: in a client schema the router
lets those change nothing (django-tenants' `TenantSyncRouter`), so Django's migrate would only
record them, and they are recorded directly (a new public-only migration would otherwise cost a
full migrate in every company's schema).

Anything but a plain forward migrate (an app label or target, `--fake`, `--plan`, `--check`,
`--prune`, `--run-syncdb`) is passed through untouched, and so is the public schema, which is a
single schema anyway. `settings.GET_EXECUTOR_FUNCTION` points django-tenants here.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from django.conf import settings
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django_tenants.migration_executors import get_executor
from django_tenants.migration_executors.base import run_migrations
from django_tenants.routers import TenantSyncRouter
from django_tenants.signals import schema_migrated
from django_tenants.utils import get_public_schema_name

PASS_THROUGH_OPTIONS = ("fake", "fake_initial", "plan", "check_unapplied", "prune", "run_syncdb")


def migrations_on_disk() -> list[str]:
    """Every migration the code holds, as `app.name`, with squashes resolved as Django does for a
    database that has applied none of them."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return sorted(f"{app}.{name}" for app, name in loader.graph.nodes)


def schemas_pending(schemas: Iterable[str]) -> list[str]:
    """The schemas, in the order given, that lack at least one migration on disk.

    One statement: a schema without a `django_migrations` table (not migrated yet) is pending."""
    schemas = list(schemas)
    if not schemas:
        return []
    expected = migrations_on_disk()
    with_table = _with_table(schemas)
    with connection.cursor() as cursor:
        counted = [schema for schema in schemas if schema in with_table]
        complete: set[str] = set()
        if counted:
            # Each branch is told by its position, so only identifiers are spliced in, quoted as
            # PostgreSQL quotes them; psycopg's sql.Composed took 0.4 s to build 2,000 branches.
            parts = " UNION ALL ".join(
                f"SELECT {position}, count(DISTINCT m.app || '.' || m.name) FROM {_quoted(schema)}.django_migrations m "
                "JOIN expected e ON e.k = m.app || '.' || m.name"
                for position, schema in enumerate(counted)
            )
            cursor.execute(f"WITH expected AS (SELECT unnest(%s::text[]) AS k) {parts}", [expected])
            complete = {counted[position] for position, count in cursor.fetchall() if count == len(expected)}
    return [schema for schema in schemas if schema not in complete]


def _with_table(schemas: list[str]) -> set[str]:
    """Those of the schemas that have a `django_migrations` table, from the catalog."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_catalog.pg_class c "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "JOIN unnest(%s::text[]) AS s(name) ON s.name = n.nspname "
            "WHERE c.relname = 'django_migrations' AND c.relkind IN ('r', 'p')",
            [schemas],
        )
        return {row[0] for row in cursor.fetchall()}


def _quoted(identifier: str) -> str:
    if "\x00" in identifier:
        raise ValueError("a schema name cannot hold a NUL character")
    return '"' + identifier.replace('"', '""') + '"'


def migrations_missing(schemas: Iterable[str]) -> dict[str, list[str]]:
    """For schemas that have a `django_migrations` table: the migrations on disk each lacks, as
    `app.name`, in one statement (run only for the schemas `schemas_pending` found)."""
    schemas = list(schemas)
    if not schemas:
        return {}
    parts = " UNION ALL ".join(
        f"SELECT {position}, d.k FROM (SELECT k FROM expected EXCEPT "
        f"SELECT app || '.' || name FROM {_quoted(schema)}.django_migrations) d"
        for position, schema in enumerate(schemas)
    )
    missing: dict[str, list[str]] = {schema: [] for schema in schemas}
    with connection.cursor() as cursor:
        cursor.execute(f"WITH expected AS (SELECT unnest(%s::text[]) AS k) {parts}", [migrations_on_disk()])
        for position, key in cursor.fetchall():
            missing[schemas[position]].append(key)
    return {schema: sorted(keys) for schema, keys in missing.items()}


def changes_nothing_in_client_schemas(keys: Iterable[str]) -> bool:
    """Whether every one of these migrations belongs to an app that the router keeps out of client
    schemas, so that migrating one there only records it. Only when django-tenants' router is the
    one deciding: another router could let an operation through."""
    if list(settings.DATABASE_ROUTERS) != ["django_tenants.routers.TenantSyncRouter"]:
        return False
    router = TenantSyncRouter()
    return all(not router.app_in_list(key.split(".", 1)[0], settings.TENANT_APPS) for key in keys)


def migrations_record(schema: str, keys: list[str], *, loader: MigrationLoader | None = None) -> None:
    """Record these migrations as applied in `schema`, as Django's migrate does for a migration the
    router skips: a squash with the migrations it replaces."""
    loader = loader or MigrationLoader(None, ignore_no_migrations=True)
    rows: set[str] = set()
    for key in keys:
        app, name = key.split(".", 1)
        rows.add(key)
        rows.update(f"{a}.{n}" for a, n in loader.disk_migrations[app, name].replaces)
    table = f"{_quoted(schema)}.django_migrations"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (app, name, applied) "
            "SELECT split_part(k, '.', 1), substr(k, strpos(k, '.') + 1), now() FROM unnest(%s::text[]) AS k "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} m WHERE m.app || '.' || m.name = k)",
            [sorted(rows)],
        )


def executor_get(codename: str | None = None):
    """What django-tenants calls to pick an executor: the chosen one, wrapped to skip schemas
    that are up to date."""
    inner_class = get_executor(codename)

    def make(args, options):
        return SkippingExecutor(inner_class(args, options), args=args, options=options)

    return make


class SkippingExecutor:
    def __init__(self, inner, *, args, options) -> None:
        self.inner = inner
        self.args = args
        self.options = options

    def _passes_through(self, tenants: list[str]) -> bool:
        if self.options.get("app_label") or self.options.get("migration_name"):
            return True
        if any(self.options.get(option) for option in PASS_THROUGH_OPTIONS):
            return True
        return tenants == [get_public_schema_name()]

    def run_migrations(self, tenants=None) -> None:
        tenants = list(tenants or [])
        if self._passes_through(tenants):
            self.inner.run_migrations(tenants=tenants)
            return
        verbosity = int(self.options.get("verbosity", 1))
        started = time.monotonic()
        pending = schemas_pending(tenants)
        if verbosity >= 1:
            print(
                f"migrate_schemas: {len(tenants) - len(pending)} of {len(tenants)} schemas up to date, "
                f"{len(pending)} to migrate (checked in {time.monotonic() - started:.2f} s)",
                flush=True,
            )
            if pending and verbosity >= 2:
                print(f"migrate_schemas: to migrate: {', '.join(pending)}", flush=True)
        if not pending:
            return
        started = time.monotonic()
        recorded = self._record_where_nothing_changes(pending, verbosity=verbosity)
        pending = [schema for schema in pending if schema not in recorded]
        if not pending:
            return
        # This command ran the system checks once already; Django's migrate would run them again in
        # every schema (0.03-0.06 s each, 0.3 s the first time) when started from the command line.
        self.inner.options = {**self.options, "skip_checks": True}
        # The inner executor prints each schema's progress as `[i/n (p%) executor:schema]`.
        self.inner.run_migrations(tenants=pending)
        if verbosity >= 1:
            print(
                f"migrate_schemas: migrated {len(pending)} schemas in {time.monotonic() - started:.1f} s, "
                f"recorded {len(recorded)}, skipped {len(tenants) - len(pending) - len(recorded)} up to date",
                flush=True,
            )

    def _record_where_nothing_changes(self, pending: list[str], *, verbosity: int) -> set[str]:
        """Record, without a migrate, the migrations of the schemas that lack only public-only
        ones; return those schemas."""
        with_table = _with_table(pending)
        missing = migrations_missing(schema for schema in pending if schema in with_table)
        recorded = {schema for schema, keys in missing.items() if keys and changes_nothing_in_client_schemas(keys)}
        started = time.monotonic()
        loader = MigrationLoader(None, ignore_no_migrations=True)
        for schema in pending:
            if schema in recorded:
                migrations_record(schema, missing[schema], loader=loader)
                schema_migrated.send(run_migrations, schema_name=schema)
        if recorded and verbosity >= 1:
            keys = sorted({key for schema in recorded for key in missing[schema]})
            print(
                f"migrate_schemas: recorded {', '.join(keys)} in {len(recorded)} schemas without migrating "
                f"(public-only: they change nothing there) in {time.monotonic() - started:.2f} s",
                flush=True,
            )
        return recorded

    def run_multi_type_migrations(self, tenants) -> None:
        self.inner.run_multi_type_migrations(tenants=tenants)
