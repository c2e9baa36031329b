"""Restore a client company's backup in place or into a new schema, in one transaction, then
erase again whatever was erased or purged after the backup was taken."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from typing import BinaryIO

from auditlog.models import LogEntry
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import DatabaseError, IntegrityError, connection, transaction
from django_tenants.utils import schema_exists
from psycopg import sql

from operations.backups.archive import (
    DATA,
    END,
    FILE,
    FILE_END,
    SEQUENCES,
    TABLE,
    TABLE_END,
    BackupError,
    BackupReader,
    payload_json,
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
from operations.backups.erasures import erasures_after_backup, erasures_reapply
from tenants.keys import RESTORED_MARK, acting_for, keys_destroyed
from tenants.models import ClientCompany


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
    shredded = keys_destroyed(company_id=company.pk)
    if shredded is not None:
        raise BackupError(
            f"'{slug}' was offboarded and its keys were destroyed (crypto-shredded) on "
            f"{shredded:%Y-%m-%d %H:%M} UTC: this backup's personal data and files can no longer be decrypted, "
            "so it cannot be restored"
        )
    if in_place:
        if not schema_exists(company.schema_name):
            raise BackupError(
                f"'{slug}' has no schema to restore into (status {company.status}); restore into a new schema instead"
            )
        schema, reference_schema = company.schema_name, company.schema_name
    else:
        if not re.fullmatch(r"(?!pg_)[a-z0-9_]{1,63}", into_schema):
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
        with transaction.atomic(), acting_for(company.pk):
            _restore_in_transaction(state, header, created_at)
            if not in_place:  # its rows are the company's, under its keys: say whose they are
                with connection.cursor() as cursor:
                    cursor.execute(
                        sql.SQL("COMMENT ON SCHEMA {} IS {}").format(
                            sql.Identifier(schema), sql.Literal(f"{RESTORED_MARK}{company.pk}")
                        )
                    )
            company_log(
                company,
                LogEntry.Action.UPDATE,
                f"restored {where} from backup {header['backup_id']} "
                f"({state.erasures:,} logged erasures applied again)",
                header,
            )
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


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _check_migrations(header: dict, schema: str) -> None:
    theirs = {tuple(m) for m in header["migrations"]}
    ours = {tuple(m) for m in schema_migrations(schema)}
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
    state.tables = schema_tables(schema)
    state.file_columns = file_columns(state.tables)
    if state.in_place:
        state.files_to_delete |= files_named(schema, state.file_columns)
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
        # For this transaction only: tables whose triggers refuse new rows under a sealed parent
        # (an issued billing statement's lines) let the restore put back what the backup holds.
        cursor.execute("SELECT set_config('vastaja.restoring', 'on', true)")
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
            # The merged rows are history that comes with its own chain links and its own queue rows
            # (the sealer's queue is merged too): `vastaja.restore_merge`, for this INSERT only, tells
            # the audit trigger that queues new rows for sealing not to queue them a second time.
            cursor.execute("SELECT set_config('vastaja.restore_merge', 'on', true)")
            cursor.execute(
                sql.SQL("INSERT INTO {} ({cols}) SELECT {cols} FROM restore_rows ON CONFLICT DO NOTHING").format(
                    target, cols=column_list
                )
            )
            added = cursor.rowcount
            cursor.execute("SELECT set_config('vastaja.restore_merge', 'off', true)")
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
    live = schema_sequences(state.company.schema_name) if schema_exists(state.company.schema_name) else {}
    present = schema_sequences(state.schema)
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
    state.files_named = files_named(state.schema, state.file_columns)


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
