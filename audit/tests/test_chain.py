"""The hash chain over a company's audit rows: each row, once sealed, gets a link chained to the one
before, and verification names the first link that breaks, and why (`verify_audit` reports it per
company)."""

from __future__ import annotations

import datetime as dt
import json
import re
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import tenant_context

from audit.chain import GENESIS, chain_append, chain_verify, content_of_change, digest, link_hash
from audit.models import AccessLogEntry, ChainLink
from audit.sealing import audit_seal

pytestmark = pytest.mark.django_db


def test_verify_audit_finds_the_tampered_entry(acme, admin_for, agent1):
    client = admin_for(agent1, "acme")
    for _ in range(3):
        client.get("/admin/answering/call/")
    with tenant_context(acme):
        audit_seal()
        assert chain_verify()[1] is None
        victim = AccessLogEntry.objects.order_by("-pk")[1]
        with connection.cursor() as cursor:
            # A superuser, by hand, past the trigger: exactly what the chain is there to reveal.
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("UPDATE audit_accesslogentry SET fields = '[]' WHERE id = %s", [victim.pk])
            cursor.execute("SET LOCAL session_replication_role = origin")
        _, failure = chain_verify()
        link = ChainLink.objects.get(kind="access", ref_id=victim.pk)
    assert failure is not None
    assert (failure.seq, failure.ref_id, failure.reason) == (link.seq, victim.pk, "the audit row was changed")
    with pytest.raises(CommandError, match="acme"):
        call_command("verify_audit", "--tenant", "acme")


def test_verify_audit_reports_an_intact_chain(capsys, globex, admin_for, agent1):
    with tenant_context(globex):
        audit_seal()  # what earlier tests that commit left waiting (beat does not run in the suite)
    admin_for(agent1, "globex").get("/admin/answering/call/")
    call_command("verify_audit", "--tenant", "globex")
    assert re.search(r"^globex: [\d,]+ entries, chain intact; \d+ waiting to be sealed", capsys.readouterr().out, re.M)


def _as_superuser(sql: str, params: list) -> None:
    """A change past the append-only trigger, by hand: what the chain is there to reveal."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        cursor.execute("SET LOCAL session_replication_role = origin")


def _access(acme_admin, path: str) -> AccessLogEntry:
    """An access-log row, sealed into the chain."""
    entry = AccessLogEntry.objects.create(
        user=acme_admin, channel="portal", object_type="crm.Contact", object_ids=["1"], fields=["name"], path=path
    )
    audit_seal()
    return entry


def test_each_new_row_is_linked_to_the_link_before_it(acme, acme_admin):
    with tenant_context(acme):
        first, second = _access(acme_admin, "/first/"), _access(acme_admin, "/second/")
        one = ChainLink.objects.get(kind="access", ref_id=first.pk)
        two = ChainLink.objects.get(kind="access", ref_id=second.pk)
        assert two.seq > one.seq
        assert two.prev_hash == one.hash
        assert two.hash == link_hash(one.hash, two.content_digest)
        assert one.content_digest != two.content_digest  # the path is part of the content
        checked, failure = chain_verify()
        assert (checked, failure) == (ChainLink.objects.count(), None)


def test_the_first_link_of_a_schema_follows_the_genesis_hash(acme):
    with tenant_context(acme):
        _as_superuser("DELETE FROM audit_chainlink", [])
        link = chain_append(kind=ChainLink.Kind.ACCESS, ref_id=1, content={"a": 1})
        assert link.prev_hash == GENESIS == "0" * 64
        assert link.hash == link_hash(GENESIS, digest({"a": 1}))


def test_a_digest_ignores_the_order_of_keys_and_a_hash_depends_on_the_link_before():
    assert digest({"a": 1, "b": [2, 3]}) == digest({"b": [2, 3], "a": 1})
    assert digest({"a": 1}) != digest({"a": 2})
    assert link_hash(GENESIS, digest({"a": 1})) != link_hash("1" * 64, digest({"a": 1}))


def test_a_change_hashes_alike_whether_auditlog_hands_its_changes_as_text_or_parsed():
    changes = {"name": ["[masked]", "[masked]"]}
    entry = SimpleNamespace(
        content_type_id=7,
        object_pk=12,
        action=1,
        changes=changes,
        actor_id=3,
        timestamp=dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC),
    )
    as_text = SimpleNamespace(**{**vars(entry), "changes": json.dumps(changes)})
    assert content_of_change(as_text) == content_of_change(entry)
    assert content_of_change(entry)["object_pk"] == "12"


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ("UPDATE audit_chainlink SET prev_hash = %s WHERE seq = %s", "the link does not follow the one before it"),
        ("UPDATE audit_chainlink SET hash = %s WHERE seq = %s", "the link's own hash is wrong"),
    ],
)
def test_a_broken_link_is_reported_with_its_reason(acme, acme_admin, tamper, reason):
    with tenant_context(acme):
        victim = _access(acme_admin, "/victim/")
        link = ChainLink.objects.get(kind="access", ref_id=victim.pk)
        _as_superuser(tamper, ["f" * 64, link.seq])
        _, failure = chain_verify()
    assert (failure.seq, failure.kind, failure.ref_id, failure.reason) == (link.seq, "access", victim.pk, reason)


def test_a_deleted_audit_row_is_reported_missing(acme, acme_admin):
    with tenant_context(acme):
        victim = _access(acme_admin, "/deleted/")
        link = ChainLink.objects.get(kind="access", ref_id=victim.pk)
        _as_superuser("DELETE FROM audit_accesslogentry WHERE id = %s", [victim.pk])
        _, failure = chain_verify()
    assert (failure.seq, failure.reason) == (link.seq, "the audit row is missing")
