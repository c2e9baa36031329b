"""What a client schema holds, read from PostgreSQL's catalog: its tables and their columns,
sequences, migration state and the stored files its rows name; and the change-log entry that
records a backup or a restore."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from dataclasses import dataclass

from auditlog.models import LogEntry
from django.apps import apps as django_apps
from django.conf import settings
from django.db import connection
from psycopg import sql

from tenants.files import stored_file_fields
from tenants.models import ClientCompany

Progress = Callable[[str], None]
DATA_RECORD_BYTES = 256 * 1024
PROGRESS_ROWS = 100_000
# Kept by the live schema, never copied: the migration state is compared instead.
SKIPPED_TABLES = {"django_migrations"}
TRIGGER_TYPE_TRUNCATE = 1 << 5


@dataclass
class Table:
    name: str
    columns: list[str]
    append_only: bool  # a trigger refuses TRUNCATE: rows are merged in, never replaced


def schema_tables(schema: str) -> dict[str, Table]:
    """The schema's tables (partitions through their parent), with their copyable columns."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname,
                   array_agg(a.attname ORDER BY a.attnum),
                   EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal
                           AND t.tgtype & %s <> 0)
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
            WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND NOT c.relispartition
            GROUP BY c.oid, c.relname
            ORDER BY c.relname
            """,
            [TRIGGER_TYPE_TRUNCATE, schema],
        )
        return {
            name: Table(name, list(columns), append_only)
            for name, columns, append_only in cursor.fetchall()
            if name not in SKIPPED_TABLES
        }


def schema_sequences(schema: str) -> dict[str, tuple[int, bool]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind = 'S' ORDER BY c.relname",
            [schema],
        )
        names = [row[0] for row in cursor.fetchall()]
        values = {}
        for name in names:
            cursor.execute(
                sql.SQL("SELECT last_value, is_called FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(name))
            )
            values[name] = tuple(cursor.fetchone())
        return values


def tenant_app_labels() -> list[str]:
    names = {entry.split(".apps.")[0] for entry in settings.TENANT_APPS}
    return sorted(config.label for config in django_apps.get_app_configs() if config.name in names)


def schema_migrations(schema: str) -> list[list[str]]:
    """The migrations of the apps that shape a client schema (shared apps' are recorded there too,
    but change nothing in it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("SELECT app, name FROM {}.django_migrations WHERE app = ANY(%s) ORDER BY app, name").format(
                sql.Identifier(schema)
            ),
            [tenant_app_labels()],
        )
        return [list(row) for row in cursor.fetchall()]


def file_columns(tables: dict[str, Table]) -> list[tuple[str, str]]:
    """(table, column) pairs that name stored files, as declared with tenants.files.stored_files."""
    pairs = []
    for model, fields in stored_file_fields().items():
        table = tables.get(model._meta.db_table)
        for name in fields:
            column = model._meta.get_field(name).column
            if table and column in table.columns:
                pairs.append((table.name, column))
    return sorted(pairs)


def files_named(schema: str, columns: list[tuple[str, str]]) -> set[str]:
    names: set[str] = set()
    with connection.cursor() as cursor:
        for table, column in columns:
            cursor.execute(
                sql.SQL("SELECT DISTINCT {col} FROM {schema}.{table} WHERE {col} <> ''").format(
                    col=sql.Identifier(column), schema=sql.Identifier(schema), table=sql.Identifier(table)
                )
            )
            names |= {row[0] for row in cursor.fetchall()}
    return names


def company_log(company: ClientCompany, action: int, what: str, header: dict) -> None:
    """A change-log entry on the company (public schema): who took or restored which backup."""
    connection.set_schema_to_public()
    LogEntry.objects.log_create(
        company,
        force_log=True,
        action=action,
        changes={"backup": [header["created_at"], what]},
        additional_data={"backup_id": header["backup_id"], "by": os_user(), "schema": header["schema"]},
    )


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        return "unknown"
