"""Appending is cheap, sealing is batched (audit/sealing.py, audit/middleware.py).

A read writes its access-log row with no chain lock; a trigger queues every audit row; the sealer
links the queue in order, one transaction per batch. Written from the side of the auditor who must
find every read in the chain exactly once, and of the reader who must never wait on the chain.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
import zoneinfo

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection, transaction
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from audit.chain import chain_verify
from audit.middleware import AccessLogBufferMiddleware
from audit.models import AccessLogEntry, ChainLink, UnsealedEntry
from audit.sealing import audit_seal, seal_lag, unchained_rows
from audit.tasks import audit_seal_task
from crm.models import Contact
from gates.context import system_context
from gates.signals import report_read
from portal.middleware import SESSION_SCHEMA_KEY
from tenants.models import ClientCompany, User
from tests.cleanup import audit_rows_removed_after
from tests.fixtures import in_test_context

THREADS = 20


def _queued_after(mark: int) -> list[tuple[str, int]]:
    return list(UnsealedEntry.objects.filter(id__gt=mark).order_by("id").values_list("kind", "ref_id"))


def _queue_mark() -> int:
    return UnsealedEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _portal_client(user: User) -> Client:
    client = Client(HTTP_HOST="acme.localhost")
    client.force_login(user)
    session = client.session
    session[SESSION_SCHEMA_KEY] = "acme"
    session.save()
    return client


def _assert_each_once_in_order(entries: list[tuple[str, int]]) -> None:
    """Every entry has exactly one link, the links run in the entries' order, and the chain holds."""
    links = list(
        ChainLink.objects.filter(ref_id__in=[ref for _, ref in entries]).order_by("seq").values_list("kind", "ref_id")
    )
    assert [link for link in links if link in set(entries)] == entries
    checked, failure = chain_verify()
    assert failure is None
    assert checked == ChainLink.objects.count()


def test_twenty_readers_at_once_all_succeed_without_the_chain_lock_and_one_pass_seals_each_once(
    django_db_blocker,
):
    """Twenty people open the Today page (personal fields of callers) in one company at once, each
    on its own connection, while a sealer holds the chain's lock: none waits on it, all succeed.
    One sealing pass then links every entry exactly once, in the order they were queued."""
    with django_db_blocker.unblock():
        acme = ClientCompany.objects.get(schema_name="acme")
        reader = User.objects.get(username="acme-admin")
        clients = [_portal_client(reader) for _ in range(THREADS)]
        with audit_rows_removed_after("acme"):
            with tenant_context(acme), system_context(reason="test assertions"):
                mark = _queue_mark()
            barrier = threading.Barrier(THREADS)
            outcomes: list[str] = []
            lock = threading.Lock()

            def read(client: Client) -> None:
                from django.db import connection as thread_connection

                try:
                    barrier.wait(timeout=30)
                    response = client.get("/")
                    outcome = str(response.status_code)
                except Exception as exc:  # reported below as a failure
                    outcome = f"error: {exc!r}"
                finally:
                    thread_connection.close()
                with lock:
                    outcomes.append(outcome)

            # A sealer at work: the chain's lock is held for as long as the readers run.
            with tenant_context(acme), transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ["audit-chain:acme"])
                threads = [threading.Thread(target=in_test_context(read), args=(c,)) for c in clients]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(timeout=60)
                assert not any(thread.is_alive() for thread in threads), "a reader waited on the chain's lock"
            assert outcomes == ["200"] * THREADS

            with tenant_context(acme), system_context(reason="test assertions"):
                queued = _queued_after(mark)
                accesses = [ref for kind, ref in queued if kind == "access"]
                read_rows = AccessLogEntry.objects.filter(pk__in=accesses, user=reader, path="/")
                # Every request logged its reads: at least one entry each, none chained yet.
                assert len({row.pk for row in read_rows}) >= THREADS
                assert not ChainLink.objects.filter(kind="access", ref_id__in=accesses).exists()
                report = audit_seal()
                assert report.sealed >= len(queued)
                assert _queued_after(mark) == []
                _assert_each_once_in_order(queued)
        connection.set_schema_to_public()
        Session.objects.filter(session_key__in=[c.session.session_key for c in clients]).delete()


def _committed_accesses(acme, count: int, label: str) -> list[int]:
    with tenant_context(acme), system_context(reason="test assertions"):
        return [
            AccessLogEntry.objects.create(
                channel="portal", object_type="crm.Contact", object_ids=["1"], fields=["name"], path=f"/{label}/{n}/"
            ).pk
            for n in range(count)
        ]


def test_a_sealer_killed_mid_batch_then_run_again_leaves_no_gap_and_no_duplicate(django_db_blocker):
    """The sealer's second batch has appended its links when its connection is terminated (as a
    killed worker's would be): that batch rolls back, and the next run links it again, once."""
    with django_db_blocker.unblock():
        acme = ClientCompany.objects.get(schema_name="acme")
        with audit_rows_removed_after("acme"):
            with tenant_context(acme), system_context(reason="test assertions"):
                audit_seal()  # nothing older in the way
                mark = _queue_mark()
            refs = _committed_accesses(acme, 12, "killed")
            with tenant_context(acme), system_context(reason="test assertions"):
                queued = _queued_after(mark)
                assert queued == [("access", ref) for ref in refs]
                seventh = UnsealedEntry.objects.get(kind="access", ref_id=refs[6]).pk
            started, outcome = threading.Event(), {}

            def seal() -> None:
                from django.db import connection as thread_connection

                try:
                    with tenant_context(acme):
                        with thread_connection.cursor() as cursor:
                            cursor.execute("SELECT pg_backend_pid()")
                            outcome["pid"] = cursor.fetchone()[0]
                        started.set()
                        audit_seal(batch=5)
                    outcome["result"] = "finished"
                except OperationalError:
                    outcome["result"] = "killed"
                except Exception as exc:
                    outcome["result"] = f"error: {exc!r}"
                finally:
                    thread_connection.close()

            # Hold the seventh queue row, so the second batch (rows 6 to 10) blocks on deleting it,
            # after its links are written and before it commits.
            with tenant_context(acme), transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT id FROM audit_unsealedentry WHERE id = %s FOR UPDATE", [seventh])
                thread = threading.Thread(target=in_test_context(seal))
                thread.start()
                assert started.wait(timeout=30)
                with connection.cursor() as cursor:
                    for _ in range(300):
                        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [outcome["pid"]])
                        if (cursor.fetchone() or [None])[0] == "Lock":
                            break
                        time.sleep(0.05)
                    else:
                        pytest.fail("the sealer never reached the held row")
                    cursor.execute("SELECT pg_terminate_backend(%s)", [outcome["pid"]])
                thread.join(timeout=30)
            assert outcome["result"] == "killed"

            with tenant_context(acme), system_context(reason="test assertions"):
                # The first batch committed; the killed one left nothing behind.
                assert (
                    list(ChainLink.objects.filter(kind="access", ref_id__in=refs).values_list("ref_id", flat=True))
                    == refs[:5]
                )
                assert _queued_after(mark) == queued[5:]
                report = audit_seal(batch=5)
                assert report.sealed == 7
                assert _queued_after(mark) == []
                _assert_each_once_in_order(queued)
        connection.set_schema_to_public()


in_a_test_transaction = pytest.mark.django_db


@in_a_test_transaction
def test_a_write_rolled_back_queues_nothing_and_one_committed_waits_for_the_next_seal(acme):
    """The queue row is written by the statement that writes the audit row: both or neither. A
    process that dies after its write and before any seal loses nothing: the queue keeps it."""
    with tenant_context(acme), system_context(reason="test assertions"):
        mark = _queue_mark()
        try:
            with transaction.atomic():
                AccessLogEntry.objects.create(channel="portal", object_type="crm.Contact", object_ids=["1"], path="/x/")
                raise RuntimeError("the request failed")
        except RuntimeError:
            pass
        assert _queued_after(mark) == []
        kept = AccessLogEntry.objects.create(channel="portal", object_type="crm.Contact", object_ids=["2"], path="/y/")
        assert _queued_after(mark) == [("access", kept.pk)]
        assert audit_seal().sealed == 1
        assert ChainLink.objects.filter(kind="access", ref_id=kept.pk).count() == 1


@in_a_test_transaction
def test_a_queued_row_already_in_the_chain_is_dropped_not_linked_twice(acme):
    """A restore merges the backup's queue back in: rows sealed since are queued again."""
    with tenant_context(acme), system_context(reason="test assertions"):
        entry = AccessLogEntry.objects.create(channel="portal", object_type="crm.Contact", object_ids=["1"])
        audit_seal()
        UnsealedEntry.objects.create(kind="access", ref_id=entry.pk)
        report = audit_seal()
        assert (report.sealed, report.already) == (0, 1)
        assert ChainLink.objects.filter(kind="access", ref_id=entry.pk).count() == 1
        assert not UnsealedEntry.objects.filter(kind="access", ref_id=entry.pk).exists()
        assert chain_verify()[1] is None


def _metric(text: str, name: str) -> float:
    match = re.search(rf'^{name}\{{tenant="acme"\}} (\S+)$', text, re.M)
    assert match, f"{name} for acme is not in /metrics"
    return float(match.group(1))


@in_a_test_transaction
def test_an_entry_unsealed_past_the_longest_delay_fails_verify_audit_naming_it_and_shows_in_metrics(acme, capsys):
    with tenant_context(acme), system_context(reason="test assertions"):
        audit_seal()
        entry = AccessLogEntry.objects.create(channel="portal", object_type="crm.Contact", object_ids=["1"])
    # Waiting, but within the longest delay: verification passes and says so.
    call_command("verify_audit", "--tenant", "acme")
    assert "chain intact; 1 waiting to be sealed" in capsys.readouterr().out
    late = timezone.now() - dt.timedelta(seconds=settings.AUDIT_SEAL_MAX_DELAY_SECONDS + 30)
    with tenant_context(acme), system_context(reason="test assertions"):
        UnsealedEntry.objects.filter(kind="access", ref_id=entry.pk).update(queued_at=late)
        lag = seal_lag()
    assert (lag.overdue, lag.first_overdue[:2]) == (1, ("access", entry.pk))
    with pytest.raises(CommandError, match="acme"):
        call_command("verify_audit", "--tenant", "acme")
    out = capsys.readouterr().out
    assert f"1 entries unsealed for longer than {settings.AUDIT_SEAL_MAX_DELAY_SECONDS} s" in out
    assert f"the first access entry {entry.pk}" in out
    # Queued when, in the company's own zone (Acme is in Tallinn).
    assert f"queued {timezone.localtime(late, zoneinfo.ZoneInfo('Europe/Tallinn')):%Y-%m-%d %H:%M:%S %Z}" in out

    metrics = Client(HTTP_HOST="localhost").get("/metrics").content.decode()
    assert _metric(metrics, "vastaja_audit_seal_lag_seconds") >= settings.AUDIT_SEAL_MAX_DELAY_SECONDS + 30
    assert _metric(metrics, "vastaja_audit_unsealed_overdue") == 1

    with tenant_context(acme):
        assert audit_seal_task() == 1  # what beat runs every AUDIT_SEAL_SECONDS
    call_command("verify_audit", "--tenant", "acme")
    metrics = Client(HTTP_HOST="localhost").get("/metrics").content.decode()
    assert _metric(metrics, "vastaja_audit_seal_lag_seconds") == 0
    assert _metric(metrics, "vastaja_audit_unsealed_overdue") == 0


@in_a_test_transaction
def test_an_audit_row_neither_chained_nor_queued_fails_verify_audit(acme, capsys):
    """A row written past the trigger (by hand, triggers off) is named: nothing vouches for it."""
    with tenant_context(acme):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(
                "INSERT INTO audit_accesslogentry (channel, object_type, object_ids, fields, refused, path, job, at) "
                "VALUES ('portal', 'crm.Contact', '[]', '[]', false, '/by-hand/', '', now()) RETURNING id"
            )
            sneaked = cursor.fetchone()[0]
            cursor.execute("SET LOCAL session_replication_role = origin")
        assert ("access", sneaked) in unchained_rows()
    with pytest.raises(CommandError):
        call_command("verify_audit", "--tenant", "acme")
    assert f"access entry {sneaked} is neither in the chain nor waiting to be sealed" in capsys.readouterr().out


@in_a_test_transaction
def test_a_request_writes_its_reads_in_one_insert_with_no_chain_lock(acme, client_for, acme_admin):
    client = client_for("acme.localhost", acme_admin)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    sql = [q["sql"] for q in queries.captured_queries]
    inserts = [s for s in sql if s.startswith('INSERT INTO "audit_accesslogentry"')]
    assert len(inserts) == 1
    assert [s for s in sql if "advisory" in s or "audit_chainlink" in s] == []
    with tenant_context(acme), system_context(reason="test assertions"):
        entries = AccessLogEntry.objects.filter(user=acme_admin, path="/").order_by("-pk")
        assert entries.count() >= 2  # several reads, one statement


@in_a_test_transaction
def test_a_read_is_logged_even_when_the_request_fails_after_it(acme, acme_admin):
    with tenant_context(acme), system_context(reason="test assertions"):
        contact = Contact.objects.order_by("pk").values_list("pk", flat=True).first()
        before = AccessLogEntry.objects.count()

    def view(request):
        with tenant_context(acme):
            report_read(user=acme_admin, channel="portal", model=Contact, object_ids=[contact], fields=["name"])
            with system_context(reason="test assertions"):
                # Buffered: nothing is written until the request ends.
                assert AccessLogEntry.objects.count() == before
        raise RuntimeError("the view failed after reading")

    with pytest.raises(RuntimeError):
        AccessLogBufferMiddleware(view)(RequestFactory().get("/contacts/"))
    with schema_context("acme"), system_context(reason="test assertions"):
        entry = AccessLogEntry.objects.order_by("-pk").first()
        assert AccessLogEntry.objects.count() == before + 1
        assert (entry.user_id, entry.object_ids, entry.fields) == (acme_admin.pk, [str(contact)], ["name"])
        assert UnsealedEntry.objects.filter(kind="access", ref_id=entry.pk).exists()


def test_beat_seals_every_active_company_every_few_seconds():
    entry = settings.CELERY_BEAT_SCHEDULE["audit-seal"]
    assert entry == {"task": "audit.seal", "schedule": settings.AUDIT_SEAL_SECONDS}
    assert settings.AUDIT_SEAL_SECONDS < settings.AUDIT_SEAL_MAX_DELAY_SECONDS


@in_a_test_transaction
def test_seal_audit_reports_its_progress(acme, capsys):
    with tenant_context(acme), system_context(reason="test assertions"):
        audit_seal()
        for n in range(3):
            AccessLogEntry.objects.create(channel="portal", object_type="crm.Contact", object_ids=[str(n)])
        LogEntry.objects.log_create(acme, force_log=True, action=LogEntry.Action.ACCESS, changes={"x": ["a", "b"]})
    call_command("seal_audit", "--tenant", "acme", "--batch", "2")
    out = capsys.readouterr().out
    assert "acme: batch 1, 2 sealed so far" in out
    assert "acme: 4 entries sealed in 2 batches" in out
    with pytest.raises(CommandError, match="no client company 'nope'"):
        call_command("seal_audit", "--tenant", "nope")


def test_a_log_that_cannot_be_written_sends_no_data_and_answers_503_not_500(django_db_blocker):
    """The database goes away after the view read and before the request's entries are written:
    the page that showed the data is not sent, and the person gets the outage page, never a 500."""
    from django.core.handlers.exception import convert_exception_to_response
    from django.http import HttpResponse

    from operations.monitoring.outage import DatabaseOutageMiddleware

    with django_db_blocker.unblock():
        acme = ClientCompany.objects.get(schema_name="acme")
        reader = User.objects.get(username="acme-admin")

        def kill(pid: int) -> None:
            from django.db import connection as thread_connection

            try:
                with thread_connection.cursor() as cursor:
                    cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            finally:
                thread_connection.close()

        def view(request):
            with tenant_context(acme):
                report_read(user=reader, channel="portal", model=Contact, object_ids=[1], fields=["name"])
            killer = threading.Thread(target=kill, args=(connection.connection.info.backend_pid,))
            killer.start()
            killer.join(timeout=30)
            return HttpResponse("Mari Tamm, +37251234501")

        handler = convert_exception_to_response(
            DatabaseOutageMiddleware(
                convert_exception_to_response(AccessLogBufferMiddleware(convert_exception_to_response(view)))
            )
        )
        try:
            response = handler(RequestFactory().get("/contacts/", HTTP_HOST="acme.localhost"))
        finally:
            connection.close()
        assert response.status_code == 503
        assert b"Mari Tamm" not in response.content
        assert response["Retry-After"]
        connection.set_schema_to_public()


def test_the_suites_cleanup_leaves_older_rows_a_block_sealed_waiting_again(django_db_blocker):
    """tests/cleanup.py removes a committing test's audit rows and links; a row written before the
    block and sealed inside it loses its link, so it must wait in the queue again, not vanish."""
    with django_db_blocker.unblock():
        acme = ClientCompany.objects.get(schema_name="acme")
        with audit_rows_removed_after("acme"):
            (older,) = _committed_accesses(acme, 1, "older")
            with audit_rows_removed_after("acme"):
                newer = _committed_accesses(acme, 2, "newer")
                with tenant_context(acme), system_context(reason="test assertions"):
                    audit_seal()
                    assert ChainLink.objects.filter(kind="access", ref_id=older).exists()
            with tenant_context(acme), system_context(reason="test assertions"):
                assert not AccessLogEntry.objects.filter(pk__in=newer).exists()
                assert not ChainLink.objects.filter(kind="access", ref_id=older).exists()
                assert UnsealedEntry.objects.filter(kind="access", ref_id=older).exists()
                assert unchained_rows() == []
                assert chain_verify()[1] is None
        connection.set_schema_to_public()
