"""Signed checkpoints of each company's audit chain, to be kept outside the database.

The chain (audit/chain.py) shows a row edited by hand, but anyone who can write to the database can
also recompute every later link with the same public SHA-256 functions. A checkpoint is the
provider's Ed25519 signature over a chain head (company, link sequence number, hash, time: the
payload is in tenants/signing.py). Stored in the public schema and copied out, as one JSON line each,
to the client (portal, evidence pack) and to whoever else keeps them (`audit_checkpoint --out`).
`verify_audit --checkpoints FILE` recomputes the chain from the entries' content and compares the
hash at each checkpointed link: a chain rewritten after a checkpoint was taken no longer matches it,
and a rewriter without the signing key cannot make a checkpoint that does.

A line of a checkpoint file:

    {"payload": {...the signed payload...}, "public_key": "<raw Ed25519 key, 64 hex>",
     "signature": "<128 hex>"}
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from auditlog.models import LogEntry
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import connection
from django.utils import timezone

from audit.chain import GENESIS, content_of_access, content_of_change, digest, link_hash
from audit.models import AccessLogEntry, ChainLink
from audit.sealing import audit_seal
from gates.context import system_context
from tenants.errors import ApplicationError
from tenants.models import AuditCheckpoint, ClientCompany
from tenants.signing import (
    PAYLOAD_FORMAT,
    PAYLOAD_KEYS,
    checkpoint_payload,
    key_fingerprint,
    payload_sign,
    payload_verify,
    public_key_raw,
)


def checkpoint_take() -> AuditCheckpoint | None:
    """Seal what is queued, then sign the current company's chain head and store the checkpoint;
    None while it has no chain."""
    company = connection.tenant
    if not getattr(company, "is_client", False):
        raise ApplicationError("a checkpoint is taken inside a client company")
    audit_seal()  # the head signed covers every entry written before the checkpoint
    with system_context(reason="take an audit checkpoint"):
        head = ChainLink.objects.order_by("-seq").values("seq", "hash").first()
    if head is None:
        return None
    signed_at = timezone.now()
    payload = checkpoint_payload(company=company.schema_name, seq=head["seq"], head_hash=head["hash"], time=signed_at)
    return AuditCheckpoint.objects.create(
        company=company,
        seq=head["seq"],
        head_hash=head["hash"],
        signed_at=signed_at,
        signature=payload_sign(payload),
        key_fingerprint=key_fingerprint(),
        public_key=public_key_raw().hex(),
    )


def checkpoint_line(checkpoint: AuditCheckpoint) -> str:
    """The checkpoint as one JSON line (no newline): what `--out`, the portal and the evidence pack give,
    with the public key it was signed with (after a key rotation, not the configured one)."""
    payload = checkpoint_payload(
        company=checkpoint.company.schema_name,
        seq=checkpoint.seq,
        head_hash=checkpoint.head_hash,
        time=checkpoint.signed_at,
    )
    line = {"payload": payload, "public_key": checkpoint.public_key, "signature": checkpoint.signature}
    return json.dumps(line, sort_keys=True, separators=(",", ":"))


def checkpoints_of(company: ClientCompany):
    """This company's checkpoints, and never another company's: the one query every reader
    (the portal, the download, the evidence pack) starts from."""
    return AuditCheckpoint.objects.filter(company=company)


def checkpoint_lines(company: ClientCompany) -> Iterator[str]:
    """Every checkpoint of this company, oldest first, as JSON lines."""
    for checkpoint in checkpoints_of(company).select_related("company").order_by("seq", "pk"):
        yield checkpoint_line(checkpoint)


# ---- reading a checkpoint file back


class CheckpointFileError(ValueError):
    """A line that is not a checkpoint at all: the file is unreadable, not the chain broken."""


@dataclass(frozen=True)
class FileCheckpoint:
    line: int
    company: str
    seq: int
    hash: str
    time: str
    payload: dict
    signature: str
    public_key: str


def _hex(value, length: int, what: str, line: int) -> str:
    if not isinstance(value, str) or len(value) != length or any(c not in "0123456789abcdef" for c in value):
        raise CheckpointFileError(f"line {line}: {what} must be {length} lowercase hex characters")
    return value


def checkpoints_parse(lines: Iterable[str]) -> list[FileCheckpoint]:
    """The checkpoints of a file, in its order; CheckpointFileError naming the first line that is
    not one (blank lines are allowed)."""
    found = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            line = json.loads(text)
        except ValueError:
            raise CheckpointFileError(f"line {number}: not JSON") from None
        if not isinstance(line, dict) or set(line) != {"payload", "public_key", "signature"}:
            raise CheckpointFileError(f"line {number}: a checkpoint line has exactly payload, public_key and signature")
        payload = line["payload"]
        if not isinstance(payload, dict) or set(payload) != PAYLOAD_KEYS:
            raise CheckpointFileError(f"line {number}: the payload has exactly {', '.join(sorted(PAYLOAD_KEYS))}")
        if payload["format"] != PAYLOAD_FORMAT:
            raise CheckpointFileError(f"line {number}: unknown checkpoint format {payload['format']!r}")
        seq = payload["seq"]
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise CheckpointFileError(f"line {number}: seq must be a positive integer")
        if not isinstance(payload["company"], str) or not isinstance(payload["time"], str):
            raise CheckpointFileError(f"line {number}: company and time must be strings")
        found.append(
            FileCheckpoint(
                line=number,
                company=payload["company"],
                seq=seq,
                hash=_hex(payload["hash"], 64, "the hash", number),
                time=payload["time"],
                payload=payload,
                signature=_hex(line["signature"], 128, "the signature", number),
                public_key=_hex(line["public_key"], 64, "the public key", number),
            )
        )
    return found


# ---- checking a company's chain against its checkpoints


@dataclass(frozen=True)
class CheckpointFailure:
    seq: int
    line: int
    reason: str


def signature_failure(checkpoint: FileCheckpoint, configured: Ed25519PublicKey) -> str | None:
    """Why this line's signature does not vouch for it, or None. Only the configured key counts: a
    line signed with any other key (one an insider made up, say) fails."""
    configured_raw = public_key_raw(configured)
    if checkpoint.public_key != configured_raw.hex():
        return (
            f"signed with another key (fingerprint {key_fingerprint(bytes.fromhex(checkpoint.public_key))[:16]}), "
            f"not the configured AUDIT_SIGNING_KEY ({key_fingerprint(configured_raw)[:16]})"
        )
    if not payload_verify(checkpoint.payload, checkpoint.signature, configured):
        return "its signature does not verify: the line was changed after it was signed"
    return None


def _recomputed_hashes(wanted: set[int]) -> dict[int, str]:
    """The hash at each wanted link, recomputed from GENESIS over the audit rows' content as they
    are now (never trusting a stored digest or hash). A link missing from the chain, or whose row is
    gone, is absent from the answer, and so is every link after it."""
    found: dict[int, str] = {}
    if not wanted:
        return found
    last = max(wanted)
    running = GENESIS
    batch: list[tuple[int, str, int]] = []

    def flush() -> bool:
        nonlocal running
        changes = {
            row.pk: row
            for row in LogEntry.objects.filter(pk__in=[ref for _, kind, ref in batch if kind == ChainLink.Kind.CHANGE])
        }
        accesses = AccessLogEntry.objects.in_bulk([ref for _, kind, ref in batch if kind == ChainLink.Kind.ACCESS])
        for seq, kind, ref in batch:
            row = (changes if kind == ChainLink.Kind.CHANGE else accesses).get(ref)
            if row is None:
                return False
            content = content_of_change(row) if kind == ChainLink.Kind.CHANGE else content_of_access(row)
            running = link_hash(running, digest(content))
            if seq in wanted:
                found[seq] = running
        batch.clear()
        return True

    links = ChainLink.objects.filter(seq__lte=last).order_by("seq").values_list("seq", "kind", "ref_id")
    for link in links.iterator(chunk_size=2000):
        batch.append(link)
        if len(batch) >= 2000 and not flush():
            return found
    if batch:
        flush()
    return found


def checkpoints_verify(
    checkpoints: list[FileCheckpoint], configured: Ed25519PublicKey
) -> tuple[int, CheckpointFailure | None]:
    """Check the current company's chain against its checkpoints from a file: every signature
    verifies with the configured key, and every checkpointed head is still the chain's hash at its
    sequence number. Returns (checkpoints checked, the failure at the lowest sequence number). Run it
    in a system context: it reads the whole chain."""
    failures = []
    for checkpoint in checkpoints:
        reason = signature_failure(checkpoint, configured)
        if reason:
            failures.append(CheckpointFailure(checkpoint.seq, checkpoint.line, reason))
    hashes = _recomputed_hashes({c.seq for c in checkpoints})
    for checkpoint in checkpoints:
        now = hashes.get(checkpoint.seq)
        if now is None:
            reason = "the link is no longer in the chain, or an entry up to it is gone"
        elif now != checkpoint.hash:
            reason = f"the hash there is now {now[:16]}…, not the {checkpoint.hash[:16]}… signed on {checkpoint.time}"
        else:
            continue
        failures.append(CheckpointFailure(checkpoint.seq, checkpoint.line, reason))
    first = min(failures, key=lambda f: (f.seq, f.line)) if failures else None
    return len(checkpoints), first
