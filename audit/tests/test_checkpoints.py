"""Signed checkpoints of each company's chain head (audit/checkpoints.py, tenants/signing.py): the
command and the daily job that take them, the exact bytes signed, the table that keeps them, and
`verify_audit --checkpoints` against a file of them. The insider who recomputes the whole chain is
tests/test_audit_insider.py."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test import override_settings
from django_tenants.utils import tenant_context

from audit.checkpoints import checkpoint_line, checkpoint_take
from audit.models import ChainLink
from tenants.models import AuditCheckpoint, ClientCompany
from tenants.signing import canonical_bytes, checkpoint_payload

pytestmark = pytest.mark.django_db


def _head(company) -> ChainLink:
    with tenant_context(company):
        return ChainLink.objects.order_by("-seq").first()


def _lines(path) -> list[dict]:
    return [json.loads(text) for text in path.read_text().splitlines()]


def test_each_company_head_is_signed_stored_and_appended_as_one_line(tmp_path, capsys, acme, globex):
    out = tmp_path / "kept-elsewhere.jsonl"
    out.write_text("")  # --out appends: what was there stays
    call_command("audit_checkpoint", "--out", str(out))

    clients = ClientCompany.objects.filter(kind="client").exclude(status="offboarded").order_by("schema_name")
    lines = {line["payload"]["company"]: line for line in _lines(out)}
    assert set(lines) == {c.schema_name for c in clients if _head(c) is not None} >= {"acme", "globex"}
    printed = capsys.readouterr().out
    for company in (acme, globex):
        head, line = _head(company), lines[company.schema_name]
        stored = AuditCheckpoint.objects.get(company=company)
        assert (stored.seq, stored.head_hash) == (head.seq, head.hash)
        assert (line["payload"]["seq"], line["payload"]["hash"]) == (head.seq, head.hash)
        assert f"{company.schema_name}: checkpoint at link {head.seq}" in printed
        # A client checks a line with nothing of ours: the raw public key and the canonical bytes.
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(line["public_key"]))
        signed = json.dumps(line["payload"], sort_keys=True, separators=(",", ":")).encode()
        key.verify(bytes.fromhex(line["signature"]), signed)  # raises if it does not verify
        assert stored.key_fingerprint == hashlib.sha256(bytes.fromhex(line["public_key"])).hexdigest()

    call_command("audit_checkpoint", "--tenant", "acme", "--out", str(out))
    assert len(_lines(out)) == len(lines) + 1
    assert AuditCheckpoint.objects.filter(company=acme).count() == 2
    assert AuditCheckpoint.objects.filter(company=globex).count() == 1


def test_the_signed_bytes_are_the_documented_canonical_json():
    payload = checkpoint_payload(
        company="acme",
        seq=1234,
        head_hash="ab" * 32,
        time=dt.datetime(2026, 12, 3, 14, 0, 5, 120, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    )
    assert canonical_bytes(payload) == (
        b'{"company":"acme","format":"vastaja-audit-checkpoint/1","hash":"' + b"ab" * 32 + b'",'
        b'"seq":1234,"time":"2026-12-03T12:00:05.000120Z"}'
    )


def test_the_development_key_is_derived_from_the_secret_key():
    # Stable across runs of the demo (the same SECRET_KEY), and no key of any real deployment.
    expected = hashlib.sha256(b"vastaja audit signing key in development:" + settings.SECRET_KEY.encode()).hexdigest()
    assert expected == settings.AUDIT_SIGNING_KEY


def test_a_checkpoint_is_never_updated_or_deleted(acme):
    with tenant_context(acme):
        checkpoint = checkpoint_take()
    for sql in (
        "UPDATE tenants_auditcheckpoint SET head_hash = %s WHERE id = %s",
        "DELETE FROM tenants_auditcheckpoint WHERE id = %s OR head_hash = %s",
    ):
        params = ["f" * 64, checkpoint.pk] if sql.startswith("UPDATE") else [checkpoint.pk, "x"]
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the insert's deferred key check, done first
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE tenants_auditcheckpoint CASCADE")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditCheckpoint.objects.filter(pk=checkpoint.pk).update(seq=1)
    assert AuditCheckpoint.objects.get(pk=checkpoint.pk).head_hash == checkpoint.head_hash


def test_a_chain_checked_against_its_own_checkpoints_verifies(tmp_path, capsys, acme):
    out = tmp_path / "checkpoints.jsonl"
    call_command("audit_checkpoint", "--tenant", "acme", "--out", str(out))
    call_command("verify_audit", "--tenant", "acme", "--checkpoints", str(out))
    printed = capsys.readouterr().out
    assert "acme: 1 checkpoint, each signed with the configured key and still in the chain" in printed
    # Every company: only acme's are in the file. Seal first what earlier tests that commit left
    # waiting (beat does not run in the suite), or it is rightly overdue.
    call_command("seal_audit")
    call_command("verify_audit", "--checkpoints", str(out))
    assert f"globex: no checkpoint of this company in {out}" in capsys.readouterr().out


def test_a_line_signed_with_another_key_fails_even_though_its_signature_is_sound(tmp_path, acme):
    """An insider who rewrote the chain signs its new head with a key of their own."""
    head = _head(acme)
    theirs = Ed25519PrivateKey.generate()
    payload = checkpoint_payload(company="acme", seq=head.seq, head_hash=head.hash, time=dt.datetime.now(dt.UTC))
    from cryptography.hazmat.primitives import serialization

    raw = theirs.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    line = {"payload": payload, "public_key": raw.hex(), "signature": theirs.sign(canonical_bytes(payload)).hex()}
    path = tmp_path / "forged.jsonl"
    path.write_text(json.dumps(line) + "\n")
    with pytest.raises(CommandError, match=f"acme at checkpoint link {head.seq}"):
        call_command("verify_audit", "--tenant", "acme", "--checkpoints", str(path))


def test_a_line_signed_by_a_key_no_longer_configured_fails(tmp_path, capsys, acme):
    with tenant_context(acme):
        checkpoint = checkpoint_take()
    path = tmp_path / "checkpoints.jsonl"
    path.write_text(checkpoint_line(checkpoint) + "\n")
    with override_settings(AUDIT_SIGNING_KEY="11" * 32):
        # Exported after the rotation, it still names the key that signed it.
        assert checkpoint_line(checkpoint) == path.read_text().strip()
        with pytest.raises(CommandError, match="acme"):
            call_command("verify_audit", "--tenant", "acme", "--checkpoints", str(path))
    assert "signed with another key" in capsys.readouterr().out
    call_command("verify_audit", "--tenant", "acme", "--checkpoints", str(path))  # with the key that signed it


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json at all", "line 2: not JSON"),
        ('{"payload": {}, "signature": "00"}', "line 2: a checkpoint line has exactly payload, public_key and"),
        ('{"payload": [], "public_key": "", "signature": ""}', "line 2: the payload has exactly"),
        ("PAYLOAD_WITH_SEQ_AS_TEXT", "line 2: seq must be a positive integer"),
        ("PAYLOAD_WITH_SHORT_SIGNATURE", "line 2: the signature must be 128 lowercase hex characters"),
    ],
)
def test_a_malformed_line_is_a_clear_error_naming_it(tmp_path, acme, text, message):
    with tenant_context(acme):
        good = checkpoint_line(checkpoint_take())
    line = json.loads(good)
    if text == "PAYLOAD_WITH_SEQ_AS_TEXT":
        line["payload"]["seq"] = str(line["payload"]["seq"])
        text = json.dumps(line)
    elif text == "PAYLOAD_WITH_SHORT_SIGNATURE":
        line["signature"] = line["signature"][:-2]
        text = json.dumps(line)
    path = tmp_path / "checkpoints.jsonl"
    path.write_text(good + "\n" + text + "\n")
    with pytest.raises(CommandError, match="^" + re.escape(f"{path}: {message}")):
        call_command("verify_audit", "--checkpoints", str(path))


def test_a_missing_file_or_a_file_of_no_checkpoints_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match=r"cannot read .*nowhere\.jsonl"):
        call_command("verify_audit", "--checkpoints", str(tmp_path / "nowhere.jsonl"))
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(CommandError, match="holds no checkpoints"):
        call_command("verify_audit", "--checkpoints", str(tmp_path / "empty.jsonl"))


def test_a_checkpoint_of_a_company_that_is_not_here_fails(tmp_path, acme):
    with tenant_context(acme):
        line = json.loads(checkpoint_line(checkpoint_take()))
    line["payload"]["company"] = "umbrella"
    (tmp_path / "c.jsonl").write_text(json.dumps(line) + "\n")
    with pytest.raises(CommandError, match="umbrella"):
        call_command("verify_audit", "--checkpoints", str(tmp_path / "c.jsonl"))


def test_a_checkpoint_is_taken_inside_a_client_company_only():
    from tenants.errors import ApplicationError

    connection.set_schema_to_public()
    with pytest.raises(ApplicationError, match="inside a client company"):
        checkpoint_take()
    assert not AuditCheckpoint.objects.exists()
