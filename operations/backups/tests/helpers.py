"""Helpers shared by the backup tests: the data subject's numbers, taking a backup with the
command, and erasing the subject through a data-subject request."""

from __future__ import annotations

import io

from django.core.management import call_command
from django_tenants.utils import tenant_context

from audit.dsr import dsr_erase, dsr_open
from operations.backups.models import ErasureRecord

SUBJECT_PHONE = "+37255591111"
SUBJECT_OTHER_PHONE = "+37255591112"


def backup_take(slug: str, path) -> str:
    out = io.StringIO()
    call_command("backup_tenant", slug, output=str(path), stdout=out)
    return out.getvalue()


def subject_erase(acme, acme_admin, django_capture_on_commit_callbacks) -> list[ErasureRecord]:
    with tenant_context(acme), django_capture_on_commit_callbacks(execute=True):
        request = dsr_open(kind="erasure", phone_number=SUBJECT_PHONE, actor=acme_admin)
        dsr_erase(request=request, actor=acme_admin)
    return list(ErasureRecord.objects.filter(company=acme, reference=f"request {request.pk}"))
