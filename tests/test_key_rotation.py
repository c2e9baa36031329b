"""Key rotation with no downtime, from the side of the people who must not notice it: a desk that
keeps reading and writing contacts and calls while the KEK and then acme's data key rotate, and an
operator whose rotation is SIGKILLed half-way. These tests commit (other threads and processes
must see the rows), and put back what they changed."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.test import override_settings
from django_tenants.utils import tenant_context

from answering.models import Call, Line
from crm.blind_index import blind_index
from crm.models import Contact
from crm.selectors import contact_id_find_by_phone
from crm.services import contact_create, contact_update
from demo.processes import in_subprocess_env
from tenants import keys
from tenants.models import ClientCompany, CompanyKey
from tenants.rekey import company_stale
from tests.fixtures import in_test_context

ROOT = Path(__file__).resolve().parent.parent
NEW_KEK = "rotation-test-new-kek-0123456789abcdef"


@pytest.fixture
def committed(django_db_blocker):
    """acme, with 300 contacts and their calls committed; afterwards they are removed and every
    company key is wrapped again by the suite's own KEK."""
    from django.conf import settings

    original = settings.KEY_ENCRYPTION_KEY
    with django_db_blocker.unblock():
        acme = ClientCompany.objects.get(schema_name="acme")
        keys.cache_clear()
        with tenant_context(acme):
            line = Line.objects.order_by("pk").first()
            made = []
            for i in range(300):
                contact = contact_create(name=f"Rotation Person {i}", phone_number=f"+3725560{i:04d}", actor=None)
                Call.objects.create(
                    line=line,
                    telephony_sid=f"CArot{i:05d}".ljust(34, "0"),
                    started_at=contact.created_at,
                    caller_number=contact.phone_number,
                    caller_name=contact.name,
                    notes=f"Rotation note {i}",
                    contact=contact,
                )
                made.append(contact.pk)
        try:
            yield acme, line, made
        finally:
            with override_settings(KEY_ENCRYPTION_KEY=f"{original},{NEW_KEK}"):
                keys.cache_clear()
                call_command("rotate_keys", "--kek", stdout=io.StringIO())
            keys.cache_clear()
            with tenant_context(acme):
                Call.objects.filter(telephony_sid__startswith="CArot").delete()
                Contact.objects.filter(pk__in=made).delete()
            connection.set_schema_to_public()


def test_rotation_under_load_loses_nothing_and_every_value_reads_back_equal(committed, django_db_blocker):
    from django.conf import settings

    acme, _line, made = committed
    original = settings.KEY_ENCRYPTION_KEY
    rolled = f"{NEW_KEK},{original}"
    failures: list[BaseException] = []
    written: dict[int, str] = {}
    stop = threading.Event()

    @in_test_context
    def desk():
        # A server already on the new KEK list reads and writes acme's contacts and calls.
        try:
            with tenant_context(acme):
                i = 0
                while not stop.is_set():
                    pk = made[i % len(made)]
                    contact = Contact.objects.get(pk=pk)
                    assert contact.name.startswith("Rotation Person"), contact.name
                    new_name = f"Rotation Person {i} edited"
                    contact_update(contact=contact, actor=None, name=new_name)
                    written[pk] = new_name
                    assert contact_id_find_by_phone(number=contact.phone_number) == pk
                    call = Call.objects.filter(contact_id=pk).first()
                    assert call.notes.startswith("Rotation note"), call.notes
                    i += 1
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    with django_db_blocker.unblock(), override_settings(KEY_ENCRYPTION_KEY=rolled, KEY_CACHE_SECONDS=0.5):
        keys.cache_clear()
        worker = threading.Thread(target=desk)
        worker.start()
        try:
            time.sleep(0.5)
            call_command("rotate_keys", "--kek", stdout=io.StringIO())
            call_command("rotate_keys", "--tenant", "acme", "--batch", "40", stdout=io.StringIO())
            time.sleep(0.5)
        finally:
            stop.set()
            worker.join(timeout=60)
        assert failures == []
        assert len(written) > 0  # the desk really worked throughout
        with tenant_context(acme):
            keys.cache_clear()
            # Every value reads back equal, and the exact lookup still finds each caller.
            for pk in made:
                contact = Contact.objects.get(pk=pk)
                assert contact.name == written.get(pk, contact.name)
                assert contact.name.startswith("Rotation Person")
                assert Contact.objects.filter(phone_bidx=blind_index(contact.phone_number)).count() == 1
            assert Call.objects.filter(telephony_sid__startswith="CArot", notes__isnull=False).count() == 300
            assert company_stale(acme.pk) == {}
            field = CompanyKey.objects.get(company=acme, purpose="field", state="active")
            assert field.version >= 2
            assert field.kek_id == keys.kek_fingerprint(NEW_KEK)
        connection.set_schema_to_public()


def test_a_rotation_killed_half_way_completes_when_run_again(committed, django_db_blocker):
    acme, _line, made = committed
    with django_db_blocker.unblock():
        env = in_subprocess_env(connection.settings_dict)
    env["KEY_CACHE_SECONDS"] = "0"
    env["PYTHONUNBUFFERED"] = "1"
    command = [sys.executable, "manage.py", "rotate_keys", "--tenant", "acme", "--batch", "5"]
    run = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    for line_out in run.stdout:  # progress lines, one per batch: kill once some batches are in
        seen.append(line_out)
        if "rows re-encrypted" in line_out and len(seen) > 10:
            run.send_signal(signal.SIGKILL)
            break
    run.wait(timeout=60)
    assert run.returncode == -signal.SIGKILL, "".join(seen)
    with django_db_blocker.unblock():
        keys.cache_clear()
        with tenant_context(acme):
            left = sum(company_stale(acme.pk).values())
        connection.set_schema_to_public()
    assert left > 0  # it really stopped half-way

    verify = subprocess.run(
        [sys.executable, "manage.py", "verify_keys", "--tenant", "acme"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert verify.returncode != 0
    assert "on v" in verify.stdout  # it names the table, column and old version of what is left

    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "resuming" in again.stdout
    verify = subprocess.run(
        [sys.executable, "manage.py", "verify_keys", "--tenant", "acme"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "none left" in verify.stdout
    with django_db_blocker.unblock():
        keys.cache_clear()
        with tenant_context(acme):
            names = set(Contact.objects.filter(pk__in=made).values_list("name", flat=True))
        connection.set_schema_to_public()
    assert names == {f"Rotation Person {i}" for i in range(300)}
