"""Back up one client company's schema and files, encrypted; restore it in place or into a new
schema, in one transaction, then erase again whatever was erased after the backup was taken.

Pure Python over the database connection (COPY ... TO/FROM STDOUT per table), so it runs wherever
the product runs: pg_dump is not on every machine, and the one pgserver ships (16) refuses newer
servers. The schema's structure is not in the backup: a restore in place keeps the live tables, and
a new schema is cloned from the template. Both must be at the backup's migration state, which the
header records.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from auditlog.models import LogEntry
from django.apps import apps as django_apps
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from django_tenants.postgresql_backend.base import is_valid_schema_name
from django_tenants.utils import schema_exists
from psycopg import sql

from tenants.backups.archive import (
    DATA,
    END,
    FILE,
    FILE_END,
    FORMAT_VERSION,
    SEQUENCES,
    TABLE,
    TABLE_END,
    BackupError,
    BackupReader,
    BackupWriter,
    payload_json,
)
from tenants.backups.erasures import erasures_after_backup, erasures_reapply
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


def _tables(schema: str) -> dict[str, Table]:
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


def _sequences(schema: str) -> dict[str, tuple[int, bool]]:
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


def _tenant_app_labels() -> list[str]:
    names = {entry.split(".apps.")[0] for entry in settings.TENANT_APPS}
    return sorted(config.label for config in django_apps.get_app_configs() if config.name in names)


def _migrations(schema: str) -> list[list[str]]:
    """The migrations of the apps that shape a client schema (shared apps' are recorded there too,
    but change nothing in it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("SELECT app, name FROM {}.django_migrations WHERE app = ANY(%s) ORDER BY app, name").format(
                sql.Identifier(schema)
            ),
            [_tenant_app_labels()],
        )
        return [list(row) for row in cursor.fetchall()]


def _file_columns(tables: dict[str, Table]) -> list[tuple[str, str]]:
    """(table, column) pairs that name stored files, as declared with tenants.files.stored_files."""
    pairs = []
    for model, fields in stored_file_fields().items():
        table = tables.get(model._meta.db_table)
        for name in fields:
            column = model._meta.get_field(name).column
            if table and column in table.columns:
                pairs.append((table.name, column))
    return sorted(pairs)


def _files_named(schema: str, columns: list[tuple[str, str]]) -> set[str]:
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


def _company_for_backup(slug: str) -> ClientCompany:
    company = ClientCompany.objects.filter(schema_name=slug, kind=ClientCompany.Kind.CLIENT).first()
    if company is None:
        raise BackupError(f"there is no client company '{slug}'")
    if not schema_exists(company.schema_name):
        raise BackupError(f"'{slug}' has no schema (status {company.status}): there is nothing to back up")
    return company


# ---- backup ----------------------------------------------------------------------------------


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
        tables = _tables(schema)
        header = {
            "format": "vastaja-tenant-backup",
            "version": FORMAT_VERSION,
            "backup_id": uuid.uuid4().hex,
            "tenant": {"slug": company.schema_name, "id": company.pk, "name": company.name},
            "schema": schema,
            "created_at": created_at.isoformat(),
            "snapshot": snapshot,
            "migrations": _migrations(schema),
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
        writer.record(SEQUENCES, {"values": _sequences(schema)})
        names = sorted(_files_named(schema, _file_columns(tables)))
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
    _log(company, LogEntry.Action.ACCESS, f"backup {header['backup_id']} taken ({total_rows:,} rows)", header)
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


# ---- restore ---------------------------------------------------------------------------------


@dataclass
class _Restore:
    reader: BackupReader
    company: ClientCompany
    schema: str  # the schema being written
    in_place: bool
    progress: Progress
    tables: dict[str, Table] = field(default_factory=dict)
    file_columns: list[tuple[str, str]] = field(default_factory=list)
    files_named: set[str] | None = None  # by the restored rows, once erasures are re-applied
    files_written: list[str] = field(default_factory=list)
    files_to_delete: set[str] = field(default_factory=set)
    file_renames: dict[str, str] = field(default_factory=dict)
    rows: int = 0
    erasures: int = 0


def backup_inspect(*, handle: BinaryIO) -> dict:
    """The header of a backup, after checking that this key opens it."""
    return BackupReader(handle).header


def tenant_restore(
    *,
    handle: BinaryIO,
    in_place: bool = False,
    into_schema: str | None = None,
    tenant: str | None = None,
    progress: Progress = lambda line: None,
) -> dict:
    """Restore a backup in place (over its own company's schema) or into the new schema
    `into_schema`, in one transaction: on any failure nothing is changed. Erasures and purges
    logged after the backup was taken are applied again before the transaction commits.

    `tenant`, when given, is the company the operator means to restore: a backup of any other
    company is refused."""
    if in_place == bool(into_schema):
        raise BackupError("say where to restore: in place, or into a new schema")
    if in_place and not tenant:
        raise BackupError("--in-place needs --tenant SLUG: name the company whose data the backup replaces")
    connection.set_schema_to_public()
    reader = BackupReader(handle)
    header = reader.header
    slug = header["tenant"]["slug"]
    if tenant and tenant != slug:
        raise BackupError(
            f"the backup is of '{slug}', not '{tenant}': refusing to restore one company's data over another's"
        )
    company = ClientCompany.objects.filter(
        pk=header["tenant"]["id"], schema_name=slug, kind=ClientCompany.Kind.CLIENT
    ).first()
    if company is None:
        raise BackupError(
            f"the backup is of a company this database does not have ('{slug}', id "
            f"{header['tenant']['id']}): it comes from another installation, or the slug was reused"
        )
    if in_place:
        if not schema_exists(company.schema_name):
            raise BackupError(
                f"'{slug}' has no schema to restore into (status {company.status}); restore into a new schema instead"
            )
        schema, reference_schema = company.schema_name, company.schema_name
    else:
        if not is_valid_schema_name(into_schema):
            raise BackupError(
                f"'{into_schema}' is not a valid schema name (lower-case letters, digits, _; not starting with pg_)"
            )
        if schema_exists(into_schema, case_sensitive=False):
            raise BackupError(f"schema '{into_schema}' already exists: choose a new name")
        schema, reference_schema = into_schema, settings.TENANT_BASE_SCHEMA
    _check_migrations(header, reference_schema)

    created_at = dt.datetime.fromisoformat(header["created_at"])
    where = "in place" if in_place else f"into the new schema {schema}"
    progress(f"restoring '{slug}' as of {created_at:%Y-%m-%d %H:%M:%S %Z} {where}, in one transaction")
    state = _Restore(reader=reader, company=company, schema=schema, in_place=in_place, progress=progress)
    started = time.monotonic()
    try:
        with transaction.atomic():
            _restore_in_transaction(state, header, created_at)
            _log(company, LogEntry.Action.UPDATE, f"restored {where} from backup {header['backup_id']} "
                 f"({state.erasures:,} logged erasures applied again)", header)  # fmt: skip
            if in_place:
                names = set(state.files_to_delete)
                transaction.on_commit(lambda: [default_storage.delete(n) for n in names if default_storage.exists(n)])
    except BaseException as exc:
        for name in state.files_written:
            default_storage.delete(name)
        if isinstance(exc, IntegrityError):
            raise BackupError(
                f"the restored rows break a database rule, so nothing was changed: {_first_line(exc)}"
            ) from None
        if isinstance(exc, DatabaseError):
            raise BackupError(f"the database refused the restore, so nothing was changed: {_first_line(exc)}") from None
        raise
    finally:
        connection.set_schema_to_public()
    progress(
        f"done: {state.rows:,} rows, {len(state.files_written):,} files written, {state.erasures:,} logged "
        f"erasures applied again, in {time.monotonic() - started:.1f} s"
    )
    return {
        "schema": schema,
        "rows": state.rows,
        "files_written": len(state.files_written),
        "erasures": state.erasures,
        "header": header,
    }


def _log(company: ClientCompany, action: int, what: str, header: dict) -> None:
    """A change-log entry on the company (public schema): who took or restored which backup."""
    connection.set_schema_to_public()
    LogEntry.objects.log_create(
        company, force_log=True, action=action, changes={"backup": [header["created_at"], what]},
        additional_data={"backup_id": header["backup_id"], "by": _os_user(), "schema": header["schema"]},
    )  # fmt: skip


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        return "unknown"


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _check_migrations(header: dict, schema: str) -> None:
    theirs = {tuple(m) for m in header["migrations"]}
    ours = {tuple(m) for m in _migrations(schema)}
    if theirs != ours:
        missing, extra = sorted(ours - theirs), sorted(theirs - ours)
        detail = []
        if missing:
            detail.append(f"{len(missing)} migration(s) newer than the backup, first {'.'.join(missing[0])}")
        if extra:
            detail.append(f"{len(extra)} the schema lacks, first {'.'.join(extra[0])}")
        raise BackupError(
            f"the backup's migration state differs from schema {schema} ({'; '.join(detail)}): "
            f"restore it with the release that made it"
        )


def _restore_in_transaction(state: _Restore, header: dict, created_at: dt.datetime) -> None:
    from tenants.cloning import schema_clone

    schema = state.schema
    if not state.in_place:
        schema_clone(source=settings.TENANT_BASE_SCHEMA, target=schema)
        state.progress(f"  cloned the template into {schema}")
    state.tables = _tables(schema)
    state.file_columns = _file_columns(state.tables)
    if state.in_place:
        state.files_to_delete |= _files_named(schema, state.file_columns)
    replaced = [t.name for t in state.tables.values() if not t.append_only]
    with connection.cursor() as cursor:
        # TRUNCATE refuses tables with foreign-key checks still pending in this transaction (a
        # caller's earlier writes): run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        # Locks the company's tables until commit: requests wait rather than see half a restore.
        cursor.execute(
            sql.SQL("TRUNCATE {}").format(
                sql.SQL(", ").join(sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(n)) for n in replaced)
            )
        )
    records = state.reader.records()
    totals = None
    for kind, payload in records:
        if kind == TABLE:
            _table_in(state, payload_json(payload), records)
        elif kind == SEQUENCES:
            _sequences_in(state, payload_json(payload)["values"])
            _reapply_erasures(state, header, created_at)
        elif kind == FILE:
            _file_in(state, payload_json(payload)["name"], records)
        elif kind == END:
            totals = payload_json(payload)
        else:
            raise BackupError(f"the backup is corrupt: an unexpected record {kind!r}")
    if totals is None or totals.get("rows") != state.rows:
        raise BackupError("the backup is corrupt: its row count does not match its end record")
    if state.files_named is None:
        raise BackupError("the backup is corrupt: it has no sequence record")
    if state.file_renames:
        _rename_files(state)
    if state.in_place:
        state.files_to_delete -= state.files_named
    with connection.cursor() as cursor:
        # Check the deferred foreign keys now, inside this transaction, rather than at a commit
        # that may belong to a caller.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _table_in(state: _Restore, meta: dict, records) -> None:
    name, columns = meta["name"], meta["columns"]
    table = state.tables.get(name)
    if table is None:
        raise BackupError(f"the backup has table {name}, which schema {state.schema} does not")
    unknown = set(columns) - set(table.columns)
    if unknown:
        raise BackupError(f"the backup's table {name} has columns {sorted(unknown)} that schema {state.schema} lacks")
    column_list = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    target = sql.SQL("{}.{}").format(sql.Identifier(state.schema), sql.Identifier(name))
    with connection.cursor() as cursor:
        if table.append_only:
            # Append-only (audit) rows are merged: rows written since the backup stay, as history.
            cursor.execute(sql.SQL("CREATE TEMP TABLE restore_rows (LIKE {}) ON COMMIT DROP").format(target))
            copy_into = sql.SQL("restore_rows")
        else:
            copy_into = target
        query = sql.SQL("COPY {} ({}) FROM STDIN").format(copy_into, column_list)
        rows = _copy_in(cursor, query, records, name, state.progress)
        if table.append_only:
            cursor.execute(
                sql.SQL("INSERT INTO {} ({cols}) SELECT {cols} FROM restore_rows ON CONFLICT DO NOTHING").format(
                    target, cols=column_list
                )
            )
            added = cursor.rowcount
            cursor.execute("DROP TABLE restore_rows")
    state.rows += rows
    if rows:
        kept = f" ({added:,} added; append-only, so rows written since stay)" if table.append_only else ""
        state.progress(f"  {name}: {rows:,} rows{kept}")


def _copy_in(cursor, query, records, name: str, progress: Progress) -> int:
    seen = 0
    with cursor.copy(query) as copy:
        for kind, payload in records:
            if kind == DATA:
                copy.write(payload)
                # Text COPY ends each row with a newline and escapes those inside values.
                before, seen = seen, seen + payload.count(b"\n")
                if seen // PROGRESS_ROWS > before // PROGRESS_ROWS:
                    progress(f"  {name}: {seen:,} rows so far")
            elif kind == TABLE_END:
                rows = payload_json(payload)["rows"]
                break
            else:
                raise BackupError("the backup is corrupt: a table's rows are cut off")
        else:
            raise BackupError("the backup is corrupt: a table's rows are cut off")
    if cursor.rowcount != rows:
        raise BackupError(f"the backup is corrupt: a table holds {cursor.rowcount} rows, its record says {rows}")
    return rows


def _sequences_in(state: _Restore, values: dict) -> None:
    """Sequences never go back: an id used after the backup (and perhaps named in the erasure log)
    is never handed out again, in place or in a new schema that may replace the old one."""
    live = _sequences(state.company.schema_name) if schema_exists(state.company.schema_name) else {}
    present = _sequences(state.schema)
    with connection.cursor() as cursor:
        for name, (last_value, is_called) in values.items():
            if name not in present:
                continue
            live_value, live_called = live.get(name, (last_value, is_called))
            value = max(last_value, live_value)
            cursor.execute(
                "SELECT setval(%s, %s, %s)", [f'"{state.schema}"."{name}"', value, bool(is_called or live_called)]
            )


def _reapply_erasures(state: _Restore, header: dict, created_at: dt.datetime) -> None:
    records = list(erasures_after_backup(company=state.company, created_at=created_at, snapshot=header["snapshot"]))
    if records:
        state.progress(f"  applying again {len(records):,} erasures logged after the backup")
    if state.in_place:
        connection.set_tenant(state.company)
    else:
        connection.set_schema(state.schema)
    try:
        applied, _rows, names = erasures_reapply(records=records, progress=state.progress)
    finally:
        connection.set_schema_to_public()
    state.erasures = applied
    # Erased files are not written back; any copy still in storage goes at commit (in place).
    if state.in_place:
        state.files_to_delete |= set(names)
    state.files_named = _files_named(state.schema, state.file_columns)


def _file_in(state: _Restore, name: str, records) -> None:
    digest = hashlib.sha256()
    with tempfile.SpooledTemporaryFile(max_size=8 * DATA_RECORD_BYTES) as spool:
        for kind, payload in records:
            if kind == DATA:
                digest.update(payload)
                spool.write(payload)
            elif kind == FILE_END:
                if payload_json(payload)["sha256"] != digest.hexdigest():
                    raise BackupError(f"the backup is corrupt: file {name} does not match its checksum")
                break
            else:
                raise BackupError("the backup is corrupt: a file is cut off")
        if state.files_named is None:
            raise BackupError("the backup is corrupt: files come before the sequences")
        if name not in state.files_named:
            return  # erased since the backup, or no longer named: never written back
        spool.seek(0)
        if state.in_place:
            if default_storage.exists(name):
                return
            saved = default_storage.save(name, File(spool, name=name))
            state.files_written.append(saved)
            if saved != name:  # a storage that refused the exact name: point the rows at the copy
                state.file_renames[name] = saved
        else:
            # A new schema gets its own copies: an erasure in one company never deletes the other's files.
            parts = name.split("/")
            parts = [state.schema if part == state.company.schema_name else part for part in parts[:-1]]
            saved = default_storage.save("/".join([*parts, f"{uuid.uuid4().hex}.enc"]), File(spool))
            state.files_written.append(saved)
            state.file_renames[name] = saved
    if len(state.files_written) % 100 == 0:
        state.progress(f"  files: {len(state.files_written):,} written")


def _rename_files(state: _Restore) -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE restore_file_names (old text PRIMARY KEY, new text) ON COMMIT DROP")
        with cursor.copy("COPY restore_file_names (old, new) FROM STDIN") as copy:
            for old, new in state.file_renames.items():
                copy.write_row((old, new))
        for table, column in state.file_columns:
            cursor.execute(
                sql.SQL(
                    "UPDATE {schema}.{table} t SET {col} = m.new FROM restore_file_names m WHERE t.{col} = m.old"
                ).format(schema=sql.Identifier(state.schema), table=sql.Identifier(table), col=sql.Identifier(column))
            )
        cursor.execute("DROP TABLE restore_file_names")
    state.progress(f"  files: {len(state.file_renames):,} stored under new names for schema {state.schema}")


def backup_default_name(slug: str) -> str:
    return f"{slug}-{timezone.now():%Y%m%dT%H%M%SZ}.vastaja-backup"
