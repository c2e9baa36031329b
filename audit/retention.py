"""The retention purge: what the DPA in force says may be kept no longer, goes.

Per category, rows older than the DPA's retention period are purged in batches, each its own
transaction, by set-based UPDATEs (no per-row signals, so the change log gets one entry per run,
not one per row). The selection is "older than the cutoff and not yet purged", so a run that is
interrupted resumes where it stopped on the next run, with nothing lost and nothing done twice.
Anything under an unexpired legal hold, directly or through its contact, is held back and
reported.

The batches walk the primary key (`id > a AND id <= b AND <due>`, one `UPDATE ... RETURNING` each)
rather than a partial index of the rows not yet purged: a column in an index's predicate counts
as indexed, so with such an index every purged row was a non-HOT update and wrote a new entry
into every index of its table. Walking the key, no index covers a column the purge changes, and
the tables keep room on each page (a lower fillfactor, answering migration 0052) for the new,
smaller versions, so the updates are HOT (docs/performance.md, "Retention purge"). The price is
that each run reads every row of the purged tables once, where the partial index found the due
rows at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Max, Min, Q, QuerySet
from django.utils import timezone

from audit.models import LegalHold, RetentionRun
from compliance.agreements.selectors import dpa_in_force
from operations.backups.erasures import erased_files_delete, erasure_apply_rows
from operations.backups.models import ErasureRecord
from tenants.categories import covers

BATCH = 10_000  # ids per batch (one transaction each); a batch changes at most this many rows
PROGRESS_EVERY = 20  # batches: a walk over rows with nothing due still says where it is
ANONYMISED = "Anonymised caller"


@dataclass(frozen=True)
class Target:
    """One kind of purge: which rows (older than the cutoff, not yet purged), the blank values
    written (given the time of the run), and which file columns' files are deleted."""

    name: str
    category: str
    queryset: Callable[[dt.datetime], QuerySet]
    contact_path: str | None
    changes: Callable[[dt.datetime], dict]
    files: tuple[str, ...] = ()


def _targets() -> list[Target]:
    from answering.models import Call, Message, Recording, Voicemail
    from crm.models import Contact
    from scheduling.models import Appointment

    return [
        Target(
            "voicemail audio",
            "user.biometrics.voice",
            lambda cutoff: Voicemail.objects.filter(created_at__lt=cutoff).exclude(audio=""),
            "call__contact",
            lambda now: {"audio": ""},
            files=("audio",),
        ),
        Target(
            "call recordings",
            "user.biometrics.voice",
            lambda cutoff: Recording.objects.filter(created_at__lt=cutoff).exclude(audio=""),
            "call__contact",
            lambda now: {"audio": ""},
            files=("audio",),
        ),
        Target(
            "message bodies and answers",
            "user.content.private",
            lambda cutoff: Message.objects.filter(created_at__lt=cutoff, purged_at__isnull=True),
            "contact",
            lambda now: {"body": "", "answers": "", "technical_details": "", "purged_at": now},
        ),
        Target(
            "voicemail transcriptions",
            "user.content.private",
            lambda cutoff: Voicemail.objects.filter(created_at__lt=cutoff, transcription_purged=False),
            "call__contact",
            lambda now: {"transcription": "", "transcription_purged": True},
        ),
        Target(
            "call notes and caller details",
            "user.contact",
            lambda cutoff: Call.objects.filter(started_at__lt=cutoff, anonymised_at__isnull=True),
            "contact",
            lambda now: {
                "caller_number": "",
                "caller_name": "",
                "notes": "",
                "caller_pseudonym": "",
                "anonymised_at": now,
            },
        ),
        Target(
            "appointment notes",
            "user.content.private",
            lambda cutoff: Appointment.objects.filter(ends_at__lt=cutoff, notes_purged=False),
            "contact",
            lambda now: {"notes": "", "notes_purged": True},
        ),
        Target(
            "inactive contacts",
            "user.contact",
            lambda cutoff: (
                Contact.objects.filter(anonymised_at__isnull=True, merged_into__isnull=True)
                .exclude(calls__started_at__gte=cutoff)
                .exclude(created_at__gte=cutoff)
            ),
            "",
            lambda now: {
                "name": ANONYMISED,
                "phone_number": "",
                "email": "",
                "address": "",
                "notes": "",
                "health_notes": "",
                "phone_bidx": "",
                "email_bidx": "",
                "name_bidx": "",
                "anonymised_at": now,
            },
        ),
    ]


def _purge_walk(run: RetentionRun, target: Target, purgeable: QuerySet, *, batch: int, progress) -> int:
    """Purge `purgeable` in batches of `batch` ids, lowest first; returns the rows purged."""
    model = purgeable.model
    # Min and max of the primary key: two probes of its index, whatever the table's size.
    bounds = model._base_manager.aggregate(first=Min("pk"), last=Max("pk"))
    if bounds["last"] is None:
        return 0
    start, last = bounds["first"] - 1, bounds["last"]
    done = walked = 0
    while start < last:
        end = min(start + batch, last)
        with transaction.atomic():
            # One statement finds, blanks and lists the batch's rows; the erasure log records
            # their ids, so a restore from an older backup purges exactly these rows again.
            ids, names = erasure_apply_rows(
                rows=purgeable.filter(pk__gt=start, pk__lte=end),
                files=target.files,
                changes=target.changes(timezone.now()),
                source=ErasureRecord.Source.RETENTION,
                reference=f"retention run {run.pk}: {target.name}",
            )
            erased_files_delete(names=names)  # at the batch's commit, retried until done
            if ids:
                done += len(ids)
                run.report["purged"][target.name] = done
                # Progress without a change-log entry per batch: the run logs once, at its end.
                RetentionRun.objects.filter(pk=run.pk).update(report=run.report)
        start, walked = end, walked + 1
        if progress and (ids or walked % PROGRESS_EVERY == 0 or start >= last):
            progress(f"  {target.name}: {done:,} (ids up to {start:,} of {last:,})")
    return done


def retention_days(version, category: str) -> int | None:
    """The retention period for a category: its own rule, or the nearest parent's, or a child's
    shortest (a rule for user.contact.name also limits what user.contact covers)."""
    rules = {rule.category: rule.days for rule in version.retention_rules.all()}
    matching = [days for cat, days in rules.items() if covers(cat, category) or covers(category, cat)]
    return min(matching) if matching else None


def retention_purge(
    *,
    dry_run: bool = False,
    now: dt.datetime | None = None,
    batch: int = BATCH,
    progress: Callable[[str], None] | None = None,
) -> RetentionRun:
    """Purge what the current company's DPA lets the provider keep no longer."""
    now = now or timezone.now()
    version = dpa_in_force(company=connection.tenant)
    run = RetentionRun.objects.create(dry_run=dry_run, report={"purged": {}, "held": {}, "policy": "dpa in force"})
    if version is None:
        run.report["policy"] = "no DPA in force: nothing is purged without an agreed retention period"
        run.finished_at = timezone.now()
        run.save(update_fields=["report", "finished_at"])
        return run
    holds = LegalHold.objects.filter(expires_at__gt=now)
    held_contacts = list(holds.exclude(contact=None).values_list("contact_id", flat=True))
    held_records = {(h.record_type, h.record_id) for h in holds.exclude(record_id=None)}
    for target in _targets():
        days = retention_days(version, target.category)
        if days is None:
            continue
        cutoff = now - dt.timedelta(days=days)
        candidates = target.queryset(cutoff)
        label = candidates.model._meta.label
        held_ids = [pk for (kind, pk) in held_records if kind == label]
        hold_filter = Q(pk__in=held_ids)
        if held_contacts:
            hold_filter |= Q(**{f"{target.contact_path}__in" if target.contact_path else "pk__in": held_contacts})
        held = candidates.filter(hold_filter).count()
        purgeable = candidates.exclude(hold_filter)
        if dry_run:
            run.report["purged"][target.name] = purgeable.count()
        else:
            run.report["purged"][target.name] = _purge_walk(run, target, purgeable, batch=batch, progress=progress)
        if held:
            run.report["held"][target.name] = held
    run.finished_at = timezone.now()
    run.save(update_fields=["report", "finished_at"])
    return run
