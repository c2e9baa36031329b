"""Moving a company's rows onto its active keys: re-encrypt every encrypted column whose value is
not under the active field key (a retired version, or the single key from before per-company keys),
recompute the row's blind indexes in the same write, and re-encrypt its stored files.

Used by `rotate_keys` and by the migrations that introduced per-company keys. It works on the raw
columns in batches by primary key, each batch one transaction holding its rows' locks, so a
concurrent save waits for the batch instead of being overwritten, a kill loses at most the batch in
flight, and a run started again carries on from what is left.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from psycopg import sql

from tenants import keys
from tenants.crypto import encrypted_fields, value_decrypt, value_encrypt

# Blind indexes to recompute with their row: model label -> [(index column, compute(values))],
# where `values` maps each encrypted column of the row to its plaintext. Declared by the models' apps.
_INDEXES: dict[str, list[tuple[str, Callable[[dict], str]]]] = {}
_EXTRA: dict[str, set[str]] = {}


def blind_indexed(label: str, column: str, compute: Callable[[dict], str], *, extra: tuple[str, ...] = ()) -> None:
    """Declare that `column` of the model `label` ("crm.Contact") is a blind index computed from
    the row's decrypted values (and the plain columns named in `extra`)."""
    entries = _INDEXES.setdefault(label, [])
    if column not in {c for c, _ in entries}:
        entries.append((column, compute))
    _EXTRA.setdefault(label, set()).update(extra)


Progress = Callable[[str], None]


@dataclass
class Table:
    label: str
    table: str
    pk: str
    columns: list[str]
    indexes: list[tuple[str, Callable[[dict], str]]] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)


def tables(models: Iterable) -> list[Table]:
    found = []
    for model in models:
        columns = [f.column for f in encrypted_fields(model)]
        if columns and not model._meta.proxy and model._meta.managed:
            found.append(Table(model._meta.label, model._meta.db_table, model._meta.pk.column, columns))
            found[-1].indexes = list(_INDEXES.get(model._meta.label, []))
            found[-1].extra = sorted(_EXTRA.get(model._meta.label, ()))
    return found


def tenant_tables() -> list[Table]:
    from django.apps import apps
    from django.conf import settings

    tenant_apps = {a.split(".apps.")[0] for a in settings.TENANT_APPS}
    return tables(m for m in apps.get_models() if m._meta.app_config.name in tenant_apps)


def _current_header(company_id: int) -> bytes:
    return struct.pack(">BII", keys.FIELD_FORMAT, company_id, keys.active_version(company_id, "field"))


def _stale(t: Table) -> sql.Composable:
    """Rows with a column not under the active field key."""
    return sql.SQL(" OR ").join(
        sql.SQL("({c} IS NOT NULL AND substring({c} from 1 for 9) <> %(head)s)").format(c=sql.Identifier(c))
        for c in t.columns
    )


def stale_count(t: Table, company_id: int) -> int:
    with connection.cursor() as cursor:
        query = sql.SQL("SELECT count(*) FROM {t} WHERE {w}").format(t=sql.Identifier(t.table), w=_stale(t))
        cursor.execute(query, {"head": _current_header(company_id)})
        return cursor.fetchone()[0]


def table_rekey(t: Table, *, company_id: int, batch: int = 500, all_rows: bool = False, progress: Progress) -> int:
    """Re-encrypt the stale rows of one table (every row with `all_rows`, which also recomputes
    every index); returns how many rows were rewritten."""
    done = 0
    last = None
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(t.table)))
        if not cursor.fetchone()[0]:
            return 0  # an empty table needs no key (nor does the template schema get one)
    columns = [t.pk, *t.columns, *t.extra]
    n = len(t.columns)
    while True:
        with transaction.atomic(), keys.pinned(company_id):
            head = _current_header(company_id)
            where = [sql.SQL("TRUE") if all_rows else sql.SQL("({})").format(_stale(t))]
            if last is not None:
                where.append(sql.SQL("{} > %(last)s").format(sql.Identifier(t.pk)))
            query = sql.SQL("SELECT {cols} FROM {t} WHERE {w} ORDER BY {pk} LIMIT {n} FOR UPDATE").format(
                cols=sql.SQL(", ").join(map(sql.Identifier, columns)),
                t=sql.Identifier(t.table),
                w=sql.SQL(" AND ").join(where),
                pk=sql.Identifier(t.pk),
                n=sql.Literal(batch),
            )
            with connection.cursor() as cursor:
                cursor.execute(query, {"head": head, "last": last})
                rows = cursor.fetchall()
                if not rows:
                    return done
                updates = []

                for pk, *values in rows:
                    cipher = zip(t.columns, values[:n], strict=True)
                    plain = {c: (None if v is None else value_decrypt(bytes(v))) for c, v in cipher}
                    new = [None if p is None else value_encrypt(p, company_id=company_id) for p in plain.values()]
                    plain.update(zip(t.extra, values[n:], strict=True))
                    new += [compute(plain) for _, compute in t.indexes]
                    updates.append((*new, pk))
                assign = [*t.columns, *(c for c, _ in t.indexes)]
                cursor.executemany(
                    sql.SQL("UPDATE {t} SET {a} WHERE {pk} = %s").format(
                        t=sql.Identifier(t.table),
                        a=sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in assign),
                        pk=sql.Identifier(t.pk),
                    ),
                    updates,
                )
            last = rows[-1][0]
            done += len(rows)
            progress(f"  {t.label}: {done} rows re-encrypted")


def schema_rekey(*, company_id: int, models=None, batch: int = 500, all_rows: bool = False, progress: Progress) -> int:
    """Every encrypted table of the connection's schema onto the company's active key."""
    found = tables(models) if models is not None else tenant_tables()
    return sum(table_rekey(t, company_id=company_id, batch=batch, all_rows=all_rows, progress=progress) for t in found)


def files_rekey(*, company_id: int, file_fields: dict, progress: Progress) -> int:
    """Re-encrypt every stored file not under the active file key: the new file is stored and its
    row points at it in one transaction; the old one is deleted only after that commits."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from tenants.files import token_decrypt

    active = keys.active_version(company_id, "file")
    done = 0
    for model, columns in file_fields.items():
        table, pk = model._meta.db_table, model._meta.pk.column
        for column in columns:
            col = model._meta.get_field(column).column
            query = sql.SQL("SELECT {pk}, {c} FROM {t} WHERE {c} <> '' ORDER BY {pk}").format(
                pk=sql.Identifier(pk), c=sql.Identifier(col), t=sql.Identifier(table)
            )
            with connection.cursor() as cursor:
                cursor.execute(query)
                names = cursor.fetchall()
            for row_pk, name in names:
                with default_storage.open(name, "rb") as handle:
                    token = handle.read()
                if keys.file_header_of(token) == (company_id, active):
                    continue
                fresh = keys.file_encrypt(token_decrypt(token, name=name), company_id=company_id)
                folder = name.rsplit("/", 1)[0] if "/" in name else ""
                with transaction.atomic():
                    stored = default_storage.save(f"{folder}/{name.rsplit('/', 1)[-1]}", ContentFile(fresh))
                    with connection.cursor() as cursor:
                        cursor.execute(
                            sql.SQL("UPDATE {t} SET {c} = %s WHERE {pk} = %s AND {c} = %s").format(
                                t=sql.Identifier(table), c=sql.Identifier(col), pk=sql.Identifier(pk)
                            ),
                            [stored, row_pk, name],
                        )
                        moved = cursor.rowcount == 1
                    transaction.on_commit(
                        lambda old=name, new=stored, ok=moved: default_storage.delete(old if ok else new)
                    )
                done += 1
                progress(f"  {model._meta.label}.{column}: {done} files re-encrypted")
    return done


def files_stale(*, company_id: int, file_fields: dict) -> int:
    from django.core.files.storage import default_storage

    active = keys.active_version(company_id, "file")
    stale = 0
    for model, columns in file_fields.items():
        for column in columns:
            col = model._meta.get_field(column).column
            with connection.cursor() as cursor:
                cursor.execute(
                    sql.SQL("SELECT {c} FROM {t} WHERE {c} <> ''").format(
                        c=sql.Identifier(col), t=sql.Identifier(model._meta.db_table)
                    )
                )
                for (name,) in cursor.fetchall():
                    with default_storage.open(name, "rb") as handle:
                        if keys.file_header_of(handle.read(12 + 28)) != (company_id, active):
                            stale += 1
    return stale


def migration_rekey(app_label: str, *, files: bool = False):
    """A RunPython function for the migrations that move existing rows (and files) off the single
    FIELD_ENCRYPTION_KEY onto the company's own keys, indexes recomputed."""

    def run(apps, schema_editor):
        from tenants.models import ClientCompany

        schema = connection.schema_name
        if not ClientCompany.objects.filter(schema_name=schema).exists():
            return  # a schema no company owns (a restore being inspected) keeps what it has
        company_id = keys.company_id_for_schema(schema)
        models = list(apps.get_app_config(app_label).get_models())
        rows = schema_rekey(company_id=company_id, models=models, all_rows=True, progress=lambda line: None)
        moved = 0
        if files:
            from tenants.files import stored_file_fields

            by_label = {m._meta.label: m for m in models}
            fields = {by_label[m._meta.label]: c for m, c in stored_file_fields().items() if m._meta.label in by_label}
            moved = files_rekey(company_id=company_id, file_fields=fields, progress=lambda line: None)
        if rows or moved:
            print(f"  {schema}: {rows} {app_label} rows and {moved} files moved onto the company's own keys")

    return run


def _file_fields() -> dict:
    from tenants.files import stored_file_fields

    return stored_file_fields()


def company_stale(company_id: int) -> dict[str, int]:
    """What of the connection's schema is not under the company's active keys: rows per table
    (`label.column@vN` -> count) and files."""
    found: dict[str, int] = {}
    for t in tenant_tables():
        with connection.cursor() as cursor:
            for column in t.columns:
                cursor.execute(
                    sql.SQL(
                        "SELECT substring({c} from 1 for 9), count(*) FROM {t} "
                        "WHERE {c} IS NOT NULL AND substring({c} from 1 for 9) <> %s GROUP BY 1"
                    ).format(c=sql.Identifier(column), t=sql.Identifier(t.table)),
                    [_current_header(company_id)],
                )
                for head, count in cursor.fetchall():
                    parsed = keys.header_of(bytes(head) + bytes(40))
                    version = f"v{parsed[1]}" if parsed and parsed[0] == company_id else "the pre-company key"
                    found[f"{t.label}.{column} on {version}"] = count
    files = files_stale(company_id=company_id, file_fields=_file_fields())
    if files:
        found["stored files on an old key"] = files
    return found


def company_rotate(*, company_id: int, batch: int, progress: Progress, sleep=None) -> dict[str, int]:
    """Give the company new field and file keys (unless an interrupted rotation is still moving
    rows, which this one then finishes), move every row and file onto them with the indexes
    recomputed, and sweep until no process that cached the old version can still be writing it."""
    import time

    from django.conf import settings

    from tenants.models import CompanyKey

    sleep = sleep or time.sleep
    left = company_stale(company_id)
    if left:
        progress(f"  resuming: {sum(left.values())} rows or files still on an old key")
    else:
        with transaction.atomic(), keys.public_schema():
            for purpose in (CompanyKey.Purpose.FIELD, CompanyKey.Purpose.FILE):
                new = keys.key_create(company_id=company_id, purpose=purpose)
                progress(f"  new {purpose} key v{new.version}")
        keys.cache_clear()
    rows = files = 0
    while True:
        moved = schema_rekey(company_id=company_id, batch=batch, progress=progress)
        moved_files = files_rekey(company_id=company_id, file_fields=_file_fields(), progress=progress)
        rows, files = rows + moved, files + moved_files
        newest = CompanyKey.objects.filter(company_id=company_id, state=CompanyKey.State.ACTIVE).order_by(
            "-created_at"
        )[0]
        settled = (timezone_now() - newest.created_at).total_seconds() >= settings.KEY_CACHE_SECONDS
        if not (moved or moved_files) and settled:
            return {"rows": rows, "files": files}
        if not (moved or moved_files):
            sleep(0.2)  # other servers may still hold the old version for KEY_CACHE_SECONDS


def timezone_now():
    from django.utils import timezone

    return timezone.now()


def keks_rewrap(*, company_ids: list[int] | None, progress: Progress) -> int:
    """Wrap every company key again under the first KEK, one key per transaction."""
    from tenants.models import CompanyKey

    rows = CompanyKey.objects.exclude(state=CompanyKey.State.DESTROYED).order_by("pk")
    if company_ids is not None:
        rows = rows.filter(company_id__in=company_ids)
    done = 0
    for pk in rows.values_list("pk", flat=True):
        with transaction.atomic(), keys.public_schema():
            if keys.key_rewrap(CompanyKey.objects.select_for_update().get(pk=pk)):
                done += 1
                if done % 50 == 0:
                    progress(f"  {done} keys wrapped again")
    return done
