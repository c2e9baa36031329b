"""Crypto-shredding at offboarding, from the side of whoever holds an old backup of the company:
it can no longer be restored nor its values decrypted, and the command says why. The other
companies' backups are untouched, and the shredding is in the public change log."""

from __future__ import annotations

import io

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django_tenants.utils import tenant_context

from crm.models import Contact
from operations.backups.archive import BackupReader
from tenants import keys
from tenants.crypto import value_decrypt
from tenants.models import CompanyKey, User
from tenants.services import client_offboard

pytestmark = pytest.mark.django_db
FRESH = "globex_shred_check"


def _backup(slug: str, path) -> None:
    call_command("backup_tenant", slug, output=str(path), stdout=io.StringIO())


def _one_ciphertext(company) -> bytes:
    with tenant_context(company), connection.cursor() as cursor:
        cursor.execute("SELECT name FROM crm_contact ORDER BY id LIMIT 1")
        return bytes(cursor.fetchone()[0])


def test_after_offboarding_an_earlier_backup_cannot_be_restored_or_decrypted(initech, globex, tmp_path):
    keys.cache_clear()
    _backup("initech", tmp_path / "initech.backup")
    _backup("globex", tmp_path / "globex.backup")
    token = _one_ciphertext(initech)
    # The backup holds the row as it lies in the database: that very ciphertext.
    with open(tmp_path / "initech.backup", "rb") as handle:
        payload = b"".join(p for _, p in BackupReader(handle).records())
    assert token.hex().encode() in payload
    versions = sorted(
        f"{k.purpose} v{k.version}" for k in CompanyKey.objects.filter(company=initech).exclude(state="destroyed")
    )
    assert versions  # initech had keys to lose

    provider_admin = User.objects.get(username="provider-admin")
    client_offboard(company=initech, reason="contract ended", actor=provider_admin)

    # Nobody can decrypt the backup's values, not even with the KEK: the keys are gone.
    keys.cache_clear()
    with pytest.raises(keys.KeyDestroyed, match="crypto-shredded"):
        value_decrypt(token)
    assert not CompanyKey.objects.filter(company=initech, wrapped__isnull=False).exists()
    # The restore refuses, naming the shredding, whichever way it is asked.
    for options in ({"into_schema": "initech_again"}, {"in_place": True, "tenant": "initech"}):
        with pytest.raises(CommandError, match=r"keys were destroyed \(crypto-shredded\)"):
            call_command("restore_tenant", str(tmp_path / "initech.backup"), stdout=io.StringIO(), **options)

    # Who, when and which versions, in the public change log.
    entries = LogEntry.objects.filter(content_type__model="companykey", action=LogEntry.Action.UPDATE)
    shredded = [e for e in entries if e.changes_dict.get("state", [None, None])[1] == "destroyed"]
    assert sorted(e.object_repr.split("/", 1)[1].split(" ")[0].replace("/", " ") for e in shredded) == versions
    assert {e.actor for e in shredded} == {provider_admin}
    assert all(e.changes_dict.get("destroyed_at") for e in shredded)
    assert all("wrapped" not in e.changes_dict for e in shredded)  # the log never holds a key

    # globex's backup is unaffected: it restores, and its names read back.
    try:
        call_command("restore_tenant", str(tmp_path / "globex.backup"), into_schema=FRESH, stdout=io.StringIO())
        connection.set_schema(FRESH)
        with keys.acting_for(globex.pk):
            assert Contact.objects.count() > 0
            assert all(name for name in Contact.objects.values_list("name", flat=True))
    finally:
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{FRESH}" CASCADE')


def test_the_ropa_and_the_evidence_pack_say_the_keys_are_shredded_at_the_end(acme):
    import json

    from audit.evidence import _security_file
    from compliance.agreements.ropa import ropa_records

    record = next(r for r in ropa_records() if r["tenant"] == "acme")
    assert "crypto-shredding" in record["end_of_service_erasure"]
    with tenant_context(acme):
        security = json.loads(_security_file(acme).content)["encryption_at_rest"]
    assert "crypto-shredding" in security["end_of_service"]
    assert {k["purpose"] for k in security["company_keys"]} == {"field", "file", "index"}
    described = {"purpose", "version", "state", "created_at", "retired_at", "destroyed_at"}
    assert all(set(k) == described for k in security["company_keys"])  # never the key itself
