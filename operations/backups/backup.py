"""Back up one client company: every table of its schema, read in one snapshot with COPY, and
every stored file its rows name, into an encrypted backup file (see archive.py).

Pure Python over the database connection, so it runs wherever the product runs: pg_dump is not
on every machine, and the one pgserver ships (16) refuses newer servers. The schema's structure is
not in the backup; the header records its migration state instead.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import BinaryIO

from auditlog.models import LogEntry
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_exists
from psycopg import sql

from operations.backups.archive import (
    DATA,
    END,
    FILE,
    FILE_END,
    FORMAT_VERSION,
    SEQUENCES,
    TABLE,
    TABLE_END,
    BackupError,
    BackupWriter,
)
from operations.backups.catalog import (
    DATA_RECORD_BYTES,
    PROGRESS_ROWS,
    Progress,
    Table,
    company_log,
    file_columns,
    files_named,
    schema_migrations,
    schema_sequences,
    schema_tables,
)
from tenants.models import ClientCompany


def _company_for_backup(slug: str) -> ClientCompany:
    company = ClientCompany.objects.filter(schema_name=slug, kind=ClientCompany.Kind.CLIENT).first()
    if company is None:
        raise BackupError(f"there is no client company '{slug}'")
    if not schema_exists(company.schema_name):
        raise BackupError(f"'{slug}' has no schema (status {company.status}): there is nothing to back up")
    return company


def tenant_backup(*, slug: str, handle: BinaryIO, progress: Progress = lambda line: None) -> dict:
    """Write an encrypted backup of one client company's schema and files to `handle`.

    Every table is read in one REPEATABLE READ snapshot, so the backup is consistent; the snapshot
    is recorded, so a restore knows which logged erasures it does not contain."""
    connection.set_schema_to_public()
    company = _company_for_backup(slug)
    schema = company.schema_name
    started = time.monotonic()
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        with connection.cursor() as cursor:
            if outermost:  # inside a caller's transaction (a test), its snapshot is the one there is
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_current_snapshot()::text, clock_timestamp()")
            snapshot, created_at = cursor.fetchone()
        tables = schema_tables(schema)
        header = {
            "format": "vastaja-tenant-backup",
            "version": FORMAT_VERSION,
            "backup_id": uuid.uuid4().hex,
            "tenant": {"slug": company.schema_name, "id": company.pk, "name": company.name},
            "schema": schema,
            "created_at": created_at.isoformat(),
            "snapshot": snapshot,
            "migrations": schema_migrations(schema),
            "tables": sorted(tables),
        }
        writer = BackupWriter(handle, header)
        progress(f"backing up '{slug}' (schema {schema}) as of {created_at:%Y-%m-%d %H:%M:%S %Z}: {len(tables)} tables")
        total_rows = 0
        for table in tables.values():
            writer.record(TABLE, {"name": table.name, "columns": table.columns})
            rows = _copy_out(schema, table, writer, progress)
            writer.record(TABLE_END, {"rows": rows})
            total_rows += rows
            if rows:
                progress(f"  {table.name}: {rows:,} rows")
        writer.record(SEQUENCES, {"values": schema_sequences(schema)})
        names = sorted(files_named(schema, file_columns(tables)))
        progress(f"  files: {len(names):,} named by the rows")
        missing = []
        for index, name in enumerate(names, 1):
            if not _file_out(name, writer):
                missing.append(name)
                progress(f"  warning: {name} is named by a row but is not in storage; backed up without it")
            if index % 100 == 0:
                progress(f"  files: {index:,} of {len(names):,}")
        summary = {
            "tables": len(tables),
            "rows": total_rows,
            "files": len(names) - len(missing),
            "missing_files": missing,
        }
        writer.record(END, summary)
        writer.close()
    company_log(company, LogEntry.Action.ACCESS, f"backup {header['backup_id']} taken ({total_rows:,} rows)", header)
    progress(
        f"done: {total_rows:,} rows and {summary['files']:,} files, {writer.bytes_written:,} bytes encrypted, "
        f"in {time.monotonic() - started:.1f} s"
    )
    return {**summary, "header": header, "bytes": writer.bytes_written}


def _copy_out(schema: str, table: Table, writer: BackupWriter, progress: Progress) -> int:
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in table.columns)
    query = sql.SQL("COPY (SELECT {columns} FROM {schema}.{table}) TO STDOUT").format(
        columns=columns, schema=sql.Identifier(schema), table=sql.Identifier(table.name)
    )
    buffer = bytearray()
    rows = 0
    with connection.cursor() as cursor:
        with cursor.copy(query) as copy:
            for data in copy:  # one row per message from the server
                buffer += data
                rows += 1
                if len(buffer) >= DATA_RECORD_BYTES:
                    writer.record(DATA, bytes(buffer))
                    buffer.clear()
                if rows % PROGRESS_ROWS == 0:
                    progress(f"  {table.name}: {rows:,} rows so far")
        if buffer:
            writer.record(DATA, bytes(buffer))
        return cursor.rowcount


def _file_out(name: str, writer: BackupWriter) -> bool:
    try:
        handle = default_storage.open(name, "rb")
    except FileNotFoundError:
        return False
    digest = hashlib.sha256()
    size = 0
    with handle:
        writer.record(FILE, {"name": name})
        while part := handle.read(DATA_RECORD_BYTES):
            digest.update(part)
            size += len(part)
            writer.record(DATA, part)
    writer.record(FILE_END, {"size": size, "sha256": digest.hexdigest()})
    return True


def backup_default_name(slug: str) -> str:
    return f"{slug}-{timezone.now():%Y%m%dT%H%M%SZ}.vastaja-backup"
