"""The erasure log, in the public schema: what was erased or purged in a client company's schema,
by model and primary key, so that a restore from an older backup can erase it again.

It lives outside the tenant schema on purpose: a restore replaces that schema, and the log must
survive it. It holds no personal value: model labels, ids, the blank values written (""
and fixed placeholders such as "Anonymised caller"), the names of file columns whose files were
deleted, and where the erasure came from.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class TransactionIdField(models.Field):
    """PostgreSQL's xid8: which transaction wrote the row, to compare with a backup's snapshot."""

    description = "PostgreSQL transaction id (xid8)"

    def db_type(self, connection) -> str:
        return "xid8"


class ErasureRecord(models.Model):
    class Source(models.TextChoices):
        ERASURE_REQUEST = "erasure_request", "Data-subject erasure request"
        RETENTION = "retention", "Retention purge"

    class Action(models.TextChoices):
        UPDATE = "update", "Fields blanked"
        DELETE = "delete", "Rows deleted"

    company = models.ForeignKey("tenants.ClientCompany", on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=20, choices=Source.choices)
    reference = models.CharField(max_length=120, help_text="The request or retention run, e.g. 'request 12'")
    model = models.CharField(max_length=100, help_text="App label and model, e.g. 'answering.Call'")
    object_ids = ArrayField(models.BigIntegerField())
    action = models.CharField(max_length=6, choices=Action.choices, default=Action.UPDATE)
    changes = models.JSONField(
        default=dict,
        blank=True,
        encoder=DjangoJSONEncoder,
        help_text="Field -> the blank or placeholder value written; never a personal value",
    )
    files = ArrayField(
        models.CharField(max_length=60), default=list, blank=True, help_text="File columns whose files were deleted"
    )
    # Both set by the database: the wall clock (not the transaction's start) and the writing
    # transaction, so a backup can tell exactly which erasures its snapshot did not see.
    recorded_at = models.DateTimeField(
        db_default=models.Func(function="clock_timestamp", output_field=models.DateTimeField())
    )
    txid = TransactionIdField(
        db_default=models.Func(function="pg_current_xact_id", output_field=TransactionIdField()), editable=False
    )

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["company", "recorded_at"], name="erasure_company_time")]

    def __str__(self) -> str:
        return f"{self.get_source_display()}: {len(self.object_ids)} {self.model} ({self.reference})"
