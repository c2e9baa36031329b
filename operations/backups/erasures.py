"""Erasures that a restore must not undo: recorded when they happen, re-applied after a restore.

`erasure_apply` (rows given by id) and `erasure_apply_rows` (rows given by a queryset, as the
retention purge's keyset batches are) are the one way data-subject erasures and retention purges
blank or delete rows in a client company's schema; each writes the erasure log row (public schema)
in the same transaction, so the two cannot disagree. `erasures_reapply` runs the logged erasures
again on restored rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Iterable

from django.apps import apps
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import BooleanField, Model, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.sql import UpdateQuery

from operations.backups.models import ErasureRecord
from operations.outbox.services import outbox_put
from tenants.files import StorageUnavailable, encrypted_file_delete
from tenants.models import ClientCompany

TASK_ERASED_FILES_DELETE = "backups.erased_files_delete"
logger = logging.getLogger(__name__)


def erased_files_delete(*, names: Iterable[str]) -> None:
    """Delete the files of erased rows once the erasure has committed (a rollback keeps rows and
    files together), and make sure it happens: an outbox row, in the erasure's own transaction,
    hands the deletion to a worker that retries until the storage has done it, so a bucket that is
    down at the commit does not leave an erased voice in it. The deletion is also tried at once."""
    names = sorted({name for name in names if name})
    if not names:
        return
    # Storage names are random, never personal: they may stand in the outbox row.
    digest = hashlib.sha256("\n".join(names).encode()).hexdigest()[:40]
    outbox_put(task=TASK_ERASED_FILES_DELETE, args=names, key=f"erased-files:{digest}")
    transaction.on_commit(lambda: _files_delete_now(names))


def _files_delete_now(names: list[str]) -> None:
    try:
        for name in names:
            encrypted_file_delete(name)
    except StorageUnavailable as exc:
        logger.warning("erased files not deleted yet, the outbox retries: %s", exc)


def erasure_apply(
    *,
    model: type[Model],
    ids: Iterable[int],
    changes: dict | None = None,
    delete: bool = False,
    files: Iterable[str] = (),
    source: str,
    reference: str,
) -> tuple[int, list[str]]:
    """Blank `changes` on (or `delete`) the rows `ids` of `model` in the current client company's
    schema, and log it. `changes` holds blank values and fixed placeholders only, never a personal
    value. Returns the rows changed and the storage names the `files` columns held: the caller
    deletes those files when its transaction allows."""
    ids = list(ids)
    if not ids:
        return 0, []
    count, names = _apply(model, ids, changes or {}, delete, tuple(files))
    _log(model, ids, {} if delete else changes, delete, files, source, reference)
    return count, names


def erasure_apply_rows(
    *, rows: QuerySet, changes: dict, files: Iterable[str] = (), source: str, reference: str
) -> tuple[list[int], list[str]]:
    """Blank `changes` on the rows `rows` selects (one model, the current client company's schema)
    and log them, like `erasure_apply`, but in one `UPDATE ... RETURNING` that finds, changes and
    lists the rows: the retention purge's batches are a range of ids and a "due" predicate, and
    reading their ids first would scan the range twice. Returns the ids changed and the storage
    names their `files` columns held (the caller deletes those files when its transaction allows)."""
    model, files = rows.model, tuple(files)
    held_files: dict[int, list[str]] = {}
    if files:
        # The names must be read before the columns are blanked: the rows are locked as they are
        # read, and only the names of rows the UPDATE then changes are returned.
        for pk, *values in rows.order_by().select_for_update(of=("self",)).values_list("pk", *files):
            held_files[pk] = [value for value in values if value]
    query = rows.query.chain(UpdateQuery)
    query.add_update_values(changes)
    compiler = query.get_compiler(using=rows.db)
    try:
        compiler.pre_sql_setup()  # as QuerySet.update(): a filter through a join becomes `pk IN (...)`
        statement, params = compiler.as_sql()
    except EmptyResultSet:  # a filter that can match nothing
        return [], []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"{statement} RETURNING {quote(model._meta.db_table)}.{quote(model._meta.pk.column)}", params)
        ids = [row[0] for row in cursor.fetchall()]
    if not ids:
        return [], []
    _log(model, ids, changes, False, files, source, reference)
    return ids, [name for pk in ids for name in held_files.get(pk, ())]


def _log(model, ids: list[int], changes: dict, delete: bool, files, source: str, reference: str) -> None:
    ErasureRecord.objects.create(
        company_id=connection.tenant.pk,
        source=source,
        reference=reference[:120],
        model=model._meta.label,
        object_ids=ids,
        action=ErasureRecord.Action.DELETE if delete else ErasureRecord.Action.UPDATE,
        changes=changes,
        files=list(files),
    )


def _apply(model: type[Model], ids: list[int], changes: dict, delete: bool, files: tuple[str, ...]):
    # `= ANY(array)`: one parameter however long the batch (a purge's is 50,000 ids), where
    # `pk__in` would compile a placeholder per id.
    quote = connection.ops.quote_name
    column = f"{quote(model._meta.db_table)}.{quote(model._meta.pk.column)}"
    rows = model._base_manager.filter(RawSQL(f"{column} = ANY(%s::bigint[])", (ids,), output_field=BooleanField()))
    names = []
    for field in files:
        names += [name for name in rows.values_list(field, flat=True) if name]
    if delete:
        return rows.delete()[0], names
    return rows.update(**changes), names


def erasures_after_backup(*, company: ClientCompany, created_at: dt.datetime, snapshot: str) -> QuerySet:
    """The company's erasures a backup does not contain: every one its snapshot did not see, and
    every one recorded after it was taken (which also covers a database restored into another
    cluster, where transaction ids start over). Re-applying one the backup already holds changes
    nothing, so erring towards more is safe."""
    unseen = RawSQL("NOT pg_visible_in_snapshot(txid, %s::pg_snapshot)", [snapshot], output_field=BooleanField())
    return (
        ErasureRecord.objects.filter(company=company)
        .alias(unseen=unseen)
        .filter(Q(recorded_at__gte=created_at) | Q(unseen=True))
        .order_by("id")
    )


def erasures_reapply(*, records: Iterable[ErasureRecord], progress: Callable[[str], None] = lambda line: None):
    """Apply logged erasures again, in the current schema (a restored one), without logging them
    anew. Returns (records applied, rows changed, the storage names the erased file columns held)."""
    applied = changed = 0
    names: list[str] = []
    for record in records:
        model = apps.get_model(record.model)
        changes = {}
        for name, value in record.changes.items():
            field = model._meta.get_field(name)
            changes[name] = None if value is None else field.to_python(value)
        count, erased = _apply(
            model, list(record.object_ids), changes, record.action == record.Action.DELETE, tuple(record.files)
        )
        applied += 1
        changed += count
        names += erased
        if count:
            progress(f"  {record.get_source_display().lower()} ({record.reference}): {count:,} {record.model} again")
    return applied, changed, names
