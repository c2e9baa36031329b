"""Issue 15's insider: someone with superuser access to the database changes an audit entry and then
recomputes the whole chain with the project's own public functions, so that the chain alone says
"intact". Checkpoints signed before, and kept outside the database, still catch it, at the right
company and link; and a checkpoint file changed by one byte fails its signature check.

The test plays the insider from the test's own connection (the test database's role is a
superuser), turning the append-only triggers off for its transaction as an insider would."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from auditlog.models import LogEntry
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import tenant_context

from audit.chain import GENESIS, content_of_access, content_of_change, digest, link_hash
from audit.models import AccessLogEntry, ChainLink
from tenants.signing import checkpoint_payload, payload_sign, public_key_raw

pytestmark = pytest.mark.django_db
YESTERDAY = dt.datetime(2026, 12, 1, 23, 59, tzinfo=dt.UTC)


def _as_superuser(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # the append-only triggers off
        cursor.execute(sql, params)
        cursor.execute("SET LOCAL session_replication_role = origin")


def _recompute_the_whole_chain() -> int:
    """What the insider does after the edit: every link's digest, prev_hash and hash, from the
    genesis on, with audit/chain.py's own functions. Returns how many links it rewrote."""
    changes = LogEntry.objects.in_bulk()
    accesses = AccessLogEntry.objects.in_bulk()
    previous, rewritten = GENESIS, []
    for link in ChainLink.objects.order_by("seq"):
        if link.kind == ChainLink.Kind.CHANGE:
            content = content_of_change(changes[link.ref_id])
        else:
            content = content_of_access(accesses[link.ref_id])
        content_digest = digest(content)
        new_hash = link_hash(previous, content_digest)
        if (link.content_digest, link.prev_hash, link.hash) != (content_digest, previous, new_hash):
            rewritten.append((content_digest, previous, new_hash, link.seq))
        previous = new_hash
    for row in rewritten:
        _as_superuser("UPDATE audit_chainlink SET content_digest = %s, prev_hash = %s, hash = %s WHERE seq = %s", row)
    return len(rewritten)


def _signed_line(company: str, link: ChainLink) -> str:
    """A checkpoint as the provider signed it when the chain ended at `link` (the day before, say)."""
    payload = checkpoint_payload(company=company, seq=link.seq, head_hash=link.hash, time=YESTERDAY)
    line = {"payload": payload, "public_key": public_key_raw().hex(), "signature": payload_sign(payload)}
    return json.dumps(line, sort_keys=True, separators=(",", ":"))


@pytest.fixture
def kept_elsewhere(tmp_path, acme):
    """The client's file: yesterday's checkpoint at an access link in the middle of acme's chain,
    and today's, taken by `audit_checkpoint --out` at its head. Returns (file, middle, head)."""
    with tenant_context(acme):
        access_links = list(ChainLink.objects.filter(kind=ChainLink.Kind.ACCESS).order_by("seq"))
        assert len(access_links) >= 4, "the demo world gives acme a chain with reads in it"
        middle = access_links[len(access_links) // 2]
        head = ChainLink.objects.order_by("-seq").first()
    assert head.seq > middle.seq
    path = tmp_path / "acme-checkpoints.jsonl"
    path.write_text(_signed_line("acme", middle) + "\n")
    call_command("audit_checkpoint", "--tenant", "acme", "--out", str(path))
    return path, middle, head


def _edit_entry_and_recompute(acme, link: ChainLink) -> None:
    with tenant_context(acme):
        entry = AccessLogEntry.objects.get(pk=link.ref_id)
        _as_superuser("UPDATE audit_accesslogentry SET fields = %s WHERE id = %s", ['["nothing"]', entry.pk])
        assert AccessLogEntry.objects.get(pk=entry.pk).fields == ["nothing"]
        assert _recompute_the_whole_chain() >= 1


def test_an_insider_who_recomputes_the_chain_is_caught_at_the_checkpoint_after_the_edit(kept_elsewhere, acme, capsys):
    path, middle, head = kept_elsewhere
    call_command("verify_audit", "--tenant", "acme", "--checkpoints", str(path))  # both hold before
    with tenant_context(acme):
        after_middle = ChainLink.objects.filter(kind=ChainLink.Kind.ACCESS, seq__gt=middle.seq).order_by("seq").first()
    _edit_entry_and_recompute(acme, after_middle)
    capsys.readouterr()

    call_command("verify_audit", "--tenant", "acme")  # the chain alone is fooled
    assert re.search(r"^acme: [\d,]+ entries, chain intact$", capsys.readouterr().out, re.MULTILINE)

    with pytest.raises(CommandError, match=f"acme at checkpoint link {head.seq}$"):
        call_command("verify_audit", "--tenant", "acme", "--checkpoints", str(path))
    out = capsys.readouterr().out
    assert f"acme: the checkpoint at link {head.seq} (line 2 of {path}) NO LONGER MATCHES" in out
    assert f"link {middle.seq} " not in out  # yesterday's checkpoint, before the edit, still matches


def test_an_edit_before_an_older_checkpoint_is_named_at_that_older_checkpoint(kept_elsewhere, acme, capsys):
    path, middle, _ = kept_elsewhere
    with tenant_context(acme):
        first_read = ChainLink.objects.filter(kind=ChainLink.Kind.ACCESS, seq__lt=middle.seq).order_by("seq").first()
    _edit_entry_and_recompute(acme, first_read)
    call_command("verify_audit", "--tenant", "acme")
    assert re.search(r"^acme: [\d,]+ entries, chain intact$", capsys.readouterr().out, re.MULTILINE)

    with pytest.raises(CommandError, match=f"acme at checkpoint link {middle.seq}$"):
        call_command("verify_audit", "--tenant", "acme", "--checkpoints", str(path))
    assert f"the checkpoint at link {middle.seq} (line 1 of {path}) NO LONGER MATCHES" in capsys.readouterr().out


@pytest.mark.parametrize("where", ["hash", "time", "signature"])
def test_a_checkpoint_file_with_one_byte_changed_fails_its_signature_check(kept_elsewhere, capsys, where):
    path, _, head = kept_elsewhere
    lines = path.read_bytes().splitlines(keepends=True)
    line = lines[1]  # today's, at the head
    # One byte, inside the value of that field: still a well-formed checkpoint line.
    start = line.index(f'"{where}":"'.encode()) + len(where) + 4
    offset = start + 5 if where != "time" else start + 3  # a hex digit, or a digit of the year
    changed = bytearray(line)
    changed[offset] = ord("7") if changed[offset] != ord("7") else ord("8")
    path.write_bytes(lines[0] + bytes(changed))
    assert sum(a != b for a, b in zip(line, changed, strict=True)) == 1

    with pytest.raises(CommandError, match=f"acme at checkpoint link {head.seq}$"):
        call_command("verify_audit", "--tenant", "acme", "--checkpoints", str(path))
    assert "its signature does not verify" in capsys.readouterr().out
