"""The tenant's tamper-evident audit chain.

Each audit row (an auditlog LogEntry or an AccessLogEntry) gets a ChainLink holding the SHA-256 of
the row's content and hash = SHA-256(previous hash + that digest). Links are appended under a
per-schema advisory lock, so concurrent writers cannot fork the chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.db import connection, transaction

from audit.models import AccessLogEntry, ChainLink

GENESIS = "0" * 64


def content_of_change(entry) -> dict:
    # auditlog assigns `changes` as a JSON string when it creates the row, and reads it back as a
    # dict: hash the parsed form, so both sides agree.
    changes = json.loads(entry.changes) if isinstance(entry.changes, str) else entry.changes
    return {
        "content_type": entry.content_type_id,
        "object_pk": str(entry.object_pk),
        "action": entry.action,
        "changes": changes,
        "actor": entry.actor_id,
        "timestamp": entry.timestamp.isoformat(),
    }


def content_of_access(entry: AccessLogEntry) -> dict:
    content = {
        "user": entry.user_id,
        "channel": entry.channel,
        "object_type": entry.object_type,
        "object_ids": entry.object_ids,
        "fields": entry.fields,
        "refused": entry.refused,
        "path": entry.path,
        "at": entry.at.isoformat(),
    }
    if entry.job:  # only where there is one: the links of entries from before jobs had names stay valid
        content["job"] = entry.job
    return content


def digest(content: dict) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def link_hash(prev_hash: str, content_digest: str) -> str:
    return hashlib.sha256((prev_hash + content_digest).encode()).hexdigest()


def chain_append(*, kind: str, ref_id: int, content: dict) -> ChainLink:
    """Append a link for one audit row, in the current schema."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            # One writer at a time per schema: the lock key is derived from the schema's name.
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"audit-chain:{connection.schema_name}"])
        last = ChainLink.objects.order_by("-seq").values_list("hash", flat=True).first() or GENESIS
        content_digest = digest(content)
        return ChainLink.objects.create(
            kind=kind,
            ref_id=ref_id,
            content_digest=content_digest,
            prev_hash=last,
            hash=link_hash(last, content_digest),
        )


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    kind: str
    ref_id: int
    reason: str


def chain_verify() -> tuple[int, ChainBreak | None]:
    """Walk the current schema's chain. Returns (links checked, the first break or None)."""
    from auditlog.models import LogEntry

    previous = GENESIS
    checked = 0
    for link in ChainLink.objects.order_by("seq").iterator(chunk_size=2000):
        checked += 1
        if link.prev_hash != previous:
            return checked, ChainBreak(link.seq, link.kind, link.ref_id, "the link does not follow the one before it")
        if link.hash != link_hash(link.prev_hash, link.content_digest):
            return checked, ChainBreak(link.seq, link.kind, link.ref_id, "the link's own hash is wrong")
        if link.kind == ChainLink.Kind.CHANGE:
            row = LogEntry.objects.filter(pk=link.ref_id).first()
            content = content_of_change(row) if row else None
        else:
            row = AccessLogEntry.objects.filter(pk=link.ref_id).first()
            content = content_of_access(row) if row else None
        if content is None:
            return checked, ChainBreak(link.seq, link.kind, link.ref_id, "the audit row is missing")
        if digest(content) != link.content_digest:
            return checked, ChainBreak(link.seq, link.kind, link.ref_id, "the audit row was changed")
        previous = link.hash
    return checked, None
