"""The sealer: a company's queued audit rows linked into its hash chain, in order, in batches.

A read or a change only inserts its audit row (the access log, the change log); a trigger queues
it in `UnsealedEntry` in the same statement (migration 0021). Sealing takes the chain's lock (only
sealers take it), reads a batch of queue rows in order, appends their links with the chain's own
functions (`audit.chain.digest`, `link_hash`) and deletes those queue rows, all in one transaction.
A sealer killed mid-batch rolls back: the next run does the batch again, so there is no gap and no
duplicate. A queued row already in the chain (a restore merges the backup's queue back in) is
dropped from the queue, not linked twice.

Beat runs `audit.seal` every AUDIT_SEAL_SECONDS for each active company; `manage.py seal_audit` does
the same by hand. An entry waiting longer than AUDIT_SEAL_MAX_DELAY_SECONDS fails `verify_audit`
and is counted overdue in /metrics.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from auditlog.models import LogEntry
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit.chain import GENESIS, content_of_access, content_of_change, digest, link_hash
from audit.models import AccessLogEntry, ChainLink, UnsealedEntry
from gates.context import system_context

BATCH = 1000


def _chain_lock_key() -> str:
    # The same key chain_append takes: one chain writer at a time per schema.
    return f"audit-chain:{connection.schema_name}"


@dataclass
class SealReport:
    sealed: int = 0  # links appended
    batches: int = 0
    already: int = 0  # queue rows whose audit row was in the chain already (dropped, not linked again)
    missing: list[tuple[str, int]] = field(default_factory=list)  # queued, but the audit row is gone
    busy: bool = False  # another sealer held the lock, and this one was told not to wait


def _seal_batch(*, batch: int, after: int, upto: int, wait: bool, report: SealReport) -> int | None:
    """One transaction: the next `batch` queue rows with ids in (after, upto] linked and dequeued.
    Returns the last queue id looked at, or None when there was nothing (or the lock was busy)."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            if wait:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [_chain_lock_key()])
            else:
                cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", [_chain_lock_key()])
                if not cursor.fetchone()[0]:
                    report.busy = True
                    return None
        queued = list(
            UnsealedEntry.objects.filter(id__gt=after, id__lte=upto)
            .order_by("id")
            .values_list("id", "kind", "ref_id")[:batch]
        )
        if not queued:
            return None
        wanted = {kind: [ref for _, k, ref in queued if k == kind] for kind in ChainLink.Kind.values}
        rows = {
            ChainLink.Kind.ACCESS: AccessLogEntry.objects.in_bulk(wanted[ChainLink.Kind.ACCESS]),
            ChainLink.Kind.CHANGE: LogEntry.objects.in_bulk(wanted[ChainLink.Kind.CHANGE]),
        }
        contents = {ChainLink.Kind.ACCESS: content_of_access, ChainLink.Kind.CHANGE: content_of_change}
        linked = set()
        for kind, refs in wanted.items():
            if refs:
                linked |= {
                    (kind, ref)
                    for ref in ChainLink.objects.filter(kind=kind, ref_id__in=refs).values_list("ref_id", flat=True)
                }
        last = ChainLink.objects.order_by("-seq").values_list("hash", flat=True).first() or GENESIS
        links, done = [], []
        for queue_id, kind, ref in queued:
            if (kind, ref) in linked:
                report.already += 1
                done.append(queue_id)
                continue
            row = rows[kind].get(ref)
            if row is None:
                # Left queued: it ages past the longest delay and verify_audit names it.
                report.missing.append((kind, ref))
                continue
            content_digest = digest(contents[kind](row))
            link = ChainLink(
                kind=kind,
                ref_id=ref,
                content_digest=content_digest,
                prev_hash=last,
                hash=link_hash(last, content_digest),
            )
            links.append(link)
            linked.add((kind, ref))
            last = link.hash
            done.append(queue_id)
        # One multi-row INSERT: the sequence numbers follow the list's order.
        ChainLink.objects.bulk_create(links)
        with connection.cursor() as cursor:
            # One statement: a queryset's delete() would first load the rows to send delete signals.
            cursor.execute(f"DELETE FROM {UnsealedEntry._meta.db_table} WHERE id = ANY(%s)", [done])
        report.sealed += len(links)
        report.batches += 1
        return queued[-1][0]


def audit_seal(
    *, batch: int = BATCH, wait: bool = True, progress: Callable[[SealReport], None] | None = None
) -> SealReport:
    """Seal the current schema's queued audit rows, one transaction per batch, until the queue
    holds nothing older than when this started. With `wait=False` a sealer already at work makes
    this one return at once (`busy`): beat's next run picks up what is left."""
    report = SealReport()
    after = 0
    with system_context(reason="seal the audit chain"):
        # What is queued now; rows queued meanwhile are the next run's, so a busy company's run ends.
        upto = UnsealedEntry.objects.order_by("-id").values_list("id", flat=True).first()
        while upto is not None:
            after = _seal_batch(batch=batch, after=after, upto=upto, wait=wait, report=report)
            if after is None:
                return report
            if progress is not None:
                progress(report)
        return report


@dataclass(frozen=True)
class SealLag:
    waiting: int  # entries queued, not yet in the chain
    oldest_seconds: float  # age of the oldest of them (0 when none)
    overdue: int  # of them, those waiting longer than AUDIT_SEAL_MAX_DELAY_SECONDS
    first_overdue: tuple[str, int, dt.datetime] | None  # (kind, ref id, queued at) of the oldest overdue


def seal_lag(*, now: dt.datetime | None = None) -> SealLag:
    """How far sealing lags in the current schema (ids and times only)."""
    now = now or timezone.now()
    limit = now - dt.timedelta(seconds=settings.AUDIT_SEAL_MAX_DELAY_SECONDS)
    with system_context(reason="seal the audit chain"):
        queue = UnsealedEntry.objects.all()
        oldest = queue.order_by("queued_at", "id").values_list("kind", "ref_id", "queued_at").first()
        overdue = queue.filter(queued_at__lt=limit)
        return SealLag(
            waiting=queue.count(),
            oldest_seconds=max((now - oldest[2]).total_seconds(), 0.0) if oldest else 0.0,
            overdue=overdue.count(),
            first_overdue=oldest if oldest and oldest[2] < limit else None,
        )


def unchained_rows(*, limit: int = 10) -> list[tuple[str, int]]:
    """Audit rows of the current schema that are neither in the chain nor waiting to be sealed:
    a row written past the queue's trigger (by hand, with triggers off). At most `limit`."""
    found = []
    with connection.cursor() as cursor:
        for kind, table in (
            (ChainLink.Kind.ACCESS, AccessLogEntry._meta.db_table),
            (ChainLink.Kind.CHANGE, LogEntry._meta.db_table),
        ):
            cursor.execute(
                f"SELECT r.id FROM {table} r WHERE NOT EXISTS (SELECT 1 FROM {ChainLink._meta.db_table} l "
                "WHERE l.kind = %s AND l.ref_id = r.id) AND NOT EXISTS (SELECT 1 FROM "
                f"{UnsealedEntry._meta.db_table} q WHERE q.kind = %s AND q.ref_id = r.id) ORDER BY r.id LIMIT %s",
                [kind, kind, limit],
            )
            found += [(kind, ref) for (ref,) in cursor.fetchall()]
    return found[:limit]
