"""The audit app's listeners: access-log entries from the gates' signals. Within a request they wait
in the request's buffer and are written in one INSERT as it ends (audit/middleware.py); anywhere
else they are written at once. No listener touches the chain: a trigger queues every new access-log
and change-log row, and the sealer links them (audit/sealing.py)."""

from __future__ import annotations

from django.db import connection
from django.dispatch import receiver
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from audit.middleware import access_log_buffered
from audit.models import AccessLogEntry, SubProcessorUse
from gates.context import current, system_context
from gates.outbound import outbound_checked
from gates.signals import access_refused, fields_read


def _in_a_company() -> bool:
    return connection.schema_name not in (get_public_schema_name(), None)


def _log(*, user, channel, model, object_ids, fields, path, refused: bool, **signal_kwargs) -> None:
    if not _in_a_company():
        return
    # A job's read is logged as that job: its system context's reason (the layer's own reports
    # of a job's reads come on the job's channel, `task` or `system`; a channel that names itself,
    # such as a calendar feed's `export`, keeps its name).
    context = current()
    job = context.reason[:100] if context is not None and not context.is_person and context.logged else ""
    entry = AccessLogEntry(
        job=job,
        user=user if getattr(user, "is_authenticated", False) else None,
        channel=channel,
        object_type=model._meta.label,
        object_ids=[str(pk) for pk in object_ids],
        fields=list(fields),
        refused=refused,
        path=path[:300],
        at=timezone.now(),
    )
    if access_log_buffered(schema=connection.schema_name, entry=entry):
        return
    # Writing the log is the audit trail's own bookkeeping: it happens wherever a read or a refusal
    # does, a refusal before any gate context too.
    with system_context(reason="write the access log"):
        entry.save(force_insert=True)


@receiver(fields_read, dispatch_uid="audit.fields_read")
def on_fields_read(sender, **kwargs):
    _log(refused=False, **kwargs)


@receiver(access_refused, dispatch_uid="audit.access_refused")
def on_access_refused(sender, **kwargs):
    _log(refused=True, **kwargs)


@receiver(outbound_checked, dispatch_uid="audit.outbound_checked")
def on_outbound_checked(sender, *, model, object_ids, fields, path, **check):
    """Every check of the gate before a send is counted; a refusal is in the access log too, on the
    channel `subprocessor`, naming the integration, the provider and why (no personal data: the
    reason is built from the DPA's own records)."""
    if not _in_a_company():
        return
    with system_context(reason="write the access log"):
        SubProcessorUse.objects.create(
            integration=check["integration"][:32],
            sub_processor=check["sub_processor"][:200],
            region=check["region"][:8],
            categories=list(check["categories"]),
            allowed=check["allowed"],
            kind=check["kind"][:20],
            reason=check["reason"][:300],
            dpa_version=check["version_number"],
            object_type=model._meta.label,
            object_ids=list(object_ids),
        )
    if not check["allowed"]:
        _log(
            user=None,
            channel=AccessLogEntry.Channel.SUBPROCESSOR,
            model=model,
            object_ids=object_ids,
            fields=fields,
            path=f"{check['integration']} ({check['sub_processor'] or 'unnamed'}), refused: {check['reason']}",
            refused=True,
        )
