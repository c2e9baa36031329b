"""Fixtures shared by the audit tests: a log of reads of acme's data at chosen times, data subjects
with calls and messages, and a way to produce an evidence pack through the portal."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
import zoneinfo
from unittest import mock

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import Call, Line, Message
from audit.models import AccessLogEntry, EvidencePack
from crm.models import Contact
from crm.services import contact_create
from gates.signals import report_read, report_refused

TALLINN = zoneinfo.ZoneInfo("Europe/Tallinn")


def _read_at(when: dt.datetime, **kwargs) -> AccessLogEntry:
    """An access-log entry as the gates write it, at a chosen time (the row's `at` is auto_now_add)."""
    with mock.patch("django.utils.timezone.now", return_value=when):
        report_read(**kwargs)
    return AccessLogEntry.objects.order_by("-pk").first()


@pytest.fixture
def acme_log(acme, agent1, agent2, acme_admin):
    """Reads of acme's data: agent1 on contacts (2 March just after midnight in Tallinn, still 1 March
    in UTC), agent2 on calls (5 March), a task building an e-mail (5 March), a refusal (6 March), and
    acme-admin's own read."""
    with tenant_context(acme):
        contact = Contact.objects.order_by("pk").first()
        call = Call.objects.order_by("pk").first()
        entries = {
            "agent1": _read_at(
                dt.datetime(2026, 3, 2, 0, 30, tzinfo=TALLINN),
                user=agent1,
                channel="admin",
                model=Contact,
                object_ids=[contact.pk],
                fields=["name", "phone_number"],
            ),
            "agent2": _read_at(
                dt.datetime(2026, 3, 5, 9, 0, tzinfo=TALLINN),
                user=agent2,
                channel="api",
                model=Call,
                object_ids=[call.pk],
                fields=["caller_name"],
            ),
            "task": _read_at(
                dt.datetime(2026, 3, 5, 10, 0, tzinfo=TALLINN),
                user=None,
                channel="task",
                model=Call,
                object_ids=[call.pk],
                fields=["caller_number"],
            ),
            "own": _read_at(
                dt.datetime(2026, 3, 5, 11, 0, tzinfo=TALLINN),
                user=acme_admin,
                channel="portal",
                model=Contact,
                object_ids=[contact.pk],
                fields=["notes"],
            ),
        }
        with mock.patch("django.utils.timezone.now", return_value=dt.datetime(2026, 3, 6, 9, 0, tzinfo=TALLINN)):
            report_refused(user=agent2, channel="admin", model=Call, object_id=call.pk, path="/admin/x/")
        entries["refused"] = AccessLogEntry.objects.order_by("-pk").first()
    return entries


@pytest.fixture
def subject(acme):
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001001")
        person = contact_create(
            name="Portal Subject", phone_number="+37255591111", email="portal@example.ee", actor=None
        )
        call = Call.objects.create(
            line=line,
            telephony_sid="CAportal".ljust(34, "0"),
            started_at=timezone.now(),
            caller_number=person.phone_number,
            caller_name=person.name,
            contact=person,
        )
        Message.objects.create(line=line, call=call, contact=person, body="Portal subject's message")
        yield person


@pytest.fixture
def produce_pack(client_for):
    """`produce_pack(admin)` -> (pack, {name: bytes}): asked for and downloaded in acme's portal,
    by `admin` (call it inside acme's tenant context)."""

    def produce(admin) -> tuple[EvidencePack, dict[str, bytes]]:
        client = client_for("acme.localhost", admin)
        assert client.post("/audits/").status_code == 302
        pack = EvidencePack.objects.first()
        response = client.post(f"/audits/{pack.pk}/download/")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/zip"
        archive = zipfile.ZipFile(io.BytesIO(response.content))
        return pack, {name: archive.read(name) for name in archive.namelist()}

    return produce


@pytest.fixture
def two_callers(acme):
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001001")
        mine = contact_create(
            name="Subject Person", phone_number="+37255581111", email="subject@example.ee", actor=None
        )
        other = contact_create(name="Bystander Person", phone_number="+37255582222", actor=None)
        for contact, sid in ((mine, "CAdsr1"), (other, "CAdsr2")):
            call = Call.objects.create(
                line=line,
                telephony_sid=sid + "0" * 28,
                started_at=timezone.now(),
                caller_number=contact.phone_number,
                caller_name=contact.name,
                contact=contact,
            )
            Message.objects.create(line=line, call=call, contact=contact, body=f"Message of {contact.name}")
        yield mine, other
