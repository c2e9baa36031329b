"""Per-company envelope keys, seen from the side of whoever must not read: another company, a
database dump without the KEK, a server on another KEK list, a copied blind index."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag
from django.db import connection, transaction
from django.test import override_settings
from django_tenants.utils import tenant_context

from crm.blind_index import blind_index
from crm.models import Contact
from crm.services import contact_create
from demo.world import CALLERS
from tenants import keys
from tenants.crypto import legacy_decrypt, value_decrypt
from tenants.models import CompanyKey
from tenants.rekey import schema_rekey, stale_count, tenant_tables

pytestmark = pytest.mark.django_db

K1, K2 = "kek-one-0123456789abcdef0123456789", "kek-two-0123456789abcdef0123456789"


@pytest.fixture(autouse=True)
def _fresh_key_cache():
    keys.cache_clear()
    yield
    keys.cache_clear()


def _raw(schema: str, table: str, column: str, pk: int) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT "{column}" FROM "{schema}"."{table}" WHERE id = %s', [pk])
        return bytes(cursor.fetchone()[0])


def test_one_number_in_two_companies_has_unrelated_indexes(acme, globex):
    with tenant_context(acme):
        in_acme = blind_index("+37255500123")
    with tenant_context(globex):
        in_globex = blind_index("+37255500123")
    assert len(in_acme) == len(in_globex) == 64
    assert in_acme != in_globex


def test_no_seeded_caller_has_an_equal_index_value_in_two_schemas(acme, globex, initech):
    indexes = ("phone_bidx", "email_bidx", "name_bidx")
    seen: dict[str, str] = {}
    with connection.cursor() as cursor:
        for company in (acme, globex, initech):
            for column in indexes:
                cursor.execute(f'SELECT "{column}" FROM "{company.schema_name}".crm_contact WHERE "{column}" <> \'\'')
                for (value,) in cursor.fetchall():
                    assert seen.setdefault(value, company.schema_name) == company.schema_name, value
            cursor.execute(f'SELECT number_bidx FROM "{company.schema_name}".crm_contactphone')
            for (value,) in cursor.fetchall():
                assert seen.setdefault(value, company.schema_name) == company.schema_name
    # The scan saw every seeded caller in each company: three companies' worth of distinct values.
    assert len(seen) >= 3 * len(CALLERS) * len(indexes)


def test_a_value_is_encrypted_under_its_own_company_and_another_company_key_cannot_open_it(acme, globex):
    with tenant_context(acme):
        contact = contact_create(name="Kaisa Kivi", phone_number="+37255500124", actor=None)
        token = _raw("acme", "crm_contact", "name", contact.pk)
    assert keys.header_of(token) == (acme.pk, keys.active_version(acme.pk, "field"))
    assert b"Kaisa" not in token
    # The same bytes relabelled as globex's: its key does not open them (AES-GCM refuses).
    forged = token[:1] + globex.pk.to_bytes(4, "big") + token[5:]
    with pytest.raises(InvalidTag):
        value_decrypt(forged)
    assert value_decrypt(token) == "Kaisa Kivi"


def test_the_database_alone_cannot_unwrap_a_company_key(acme):
    row = CompanyKey.objects.get(company=acme, purpose="field", state="active")
    assert len(bytes(row.wrapped)) == 12 + 32 + 16  # nonce, key, tag: nothing in the clear
    with override_settings(KEY_ENCRYPTION_KEY=K1):  # a KEK that never wrapped it
        keys.cache_clear()
        with pytest.raises(keys.KeyUnavailable, match="not in KEY_ENCRYPTION_KEY"):
            keys.data_key(acme.pk, "field", row.version)


def test_a_key_made_in_a_transaction_that_rolls_back_is_not_remembered(acme):
    with override_settings(KEY_ENCRYPTION_KEY=K1):
        version = CompanyKey.objects.filter(company=acme, purpose="field").count()

        def make_then_fail():
            with transaction.atomic():
                keys.key_create(company_id=acme.pk, purpose="field")
                keys.data_key(acme.pk, "field", version + 1)
                keys.active_version(acme.pk, "field")
                raise RuntimeError

        with pytest.raises(RuntimeError):
            make_then_fail()
        assert not CompanyKey.objects.filter(company=acme, purpose="field", version=version + 1).exists()
        # Neither the key nor "it is active" survived in the cache: a lost key would encrypt nothing.
        with pytest.raises(keys.KeyUnavailable, match=f"no field key v{version + 1}"):
            keys.data_key(acme.pk, "field", version + 1)
        assert keys.active_version(acme.pk, "field") == version


def test_mixed_kek_lists_read_each_others_rows_through_the_roll_out(acme):
    """Servers on `K1,K2` (K2 known, K1 wraps) and on `K2,K1` (K2 wraps) run side by side: each
    reads what the other wrote, keys made by either included. K1 is the KEK the world was made with."""
    from django.conf import settings

    k1 = settings.KEY_ENCRYPTION_KEY
    old, new = override_settings(KEY_ENCRYPTION_KEY=f"{k1},{K2}"), override_settings(KEY_ENCRYPTION_KEY=f"{K2},{k1}")
    written = {}
    with tenant_context(acme):
        with old:
            keys.cache_clear()
            with keys.public_schema():
                keys.key_create(company_id=acme.pk, purpose="field")  # wrapped by K1
            written["old"] = contact_create(name="Old Server", phone_number="+37255500125", actor=None).pk
        with new:
            keys.cache_clear()
            assert value_decrypt(_raw("acme", "crm_contact", "name", written["old"])) == "Old Server"
            with keys.public_schema():
                keys.key_create(company_id=acme.pk, purpose="field")  # wrapped by K2
            written["new"] = contact_create(name="New Server", phone_number="+37255500126", actor=None).pk
        with old:
            keys.cache_clear()
            assert value_decrypt(_raw("acme", "crm_contact", "name", written["new"])) == "New Server"
            assert value_decrypt(_raw("acme", "crm_contact", "name", written["old"])) == "Old Server"
            assert Contact.objects.get(pk=written["new"]).phone_number == "+37255500126"
            # Exact lookups agree across the two: the index key did not change with the KEK.
            assert Contact.objects.filter(phone_bidx=blind_index("+37255500126")).count() == 1
    assert {k.kek_id for k in CompanyKey.objects.filter(company=acme, purpose="field", version__gt=1)} == {
        keys.kek_fingerprint(k1),
        keys.kek_fingerprint(K2),
    }


def test_values_from_before_company_keys_are_read_and_moved_with_their_indexes_recomputed(acme):
    """A row as django-cryptography wrote it under FIELD_ENCRYPTION_KEY, with the old shared-key
    index: it still reads, and the migration's pass moves it onto acme's key and acme's index."""
    import pickle

    from django_cryptography.utils.crypto import FernetBytes

    with tenant_context(acme):
        contact = contact_create(name="Legacy Person", phone_number="+37255500127", actor=None)
        legacy = {c: FernetBytes().encrypt(pickle.dumps(v)) for c, v in [("name", "Legacy Person")]}
        legacy["phone_number"] = FernetBytes().encrypt(pickle.dumps("+37255500127"))
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE crm_contact SET name = %s, phone_number = %s, phone_bidx = 'shared-key-digest' WHERE id = %s",
                [legacy["name"], legacy["phone_number"], contact.pk],
            )
        assert legacy_decrypt(_raw("acme", "crm_contact", "name", contact.pk)) == "Legacy Person"
        assert Contact.objects.get(pk=contact.pk).name == "Legacy Person"
        table = next(t for t in tenant_tables() if t.label == "crm.Contact")
        assert stale_count(table, acme.pk) >= 1
        schema_rekey(company_id=acme.pk, progress=lambda line: None)
        assert stale_count(table, acme.pk) == 0
        assert keys.header_of(_raw("acme", "crm_contact", "name", contact.pk))[0] == acme.pk
        assert Contact.objects.get(phone_bidx=blind_index("+37255500127")).name == "Legacy Person"


def test_a_legacy_value_that_is_not_plain_data_is_refused():
    import pickle

    from django_cryptography.utils.crypto import FernetBytes

    token = FernetBytes().encrypt(pickle.dumps(CompanyKey.State.ACTIVE))  # a pickled enum names a class
    with pytest.raises(pickle.UnpicklingError, match="refused"):
        legacy_decrypt(token)
