"""The audit trail of a client company: who read which personal fields (the access log), and a
hash chain over the access log and the change log (django-auditlog) that makes tampering evident.

Both tables are append-only for the application's database role: a trigger refuses UPDATE and
DELETE (migration 0002). A row joins the chain shortly after it is written: a trigger queues it in
UnsealedEntry (migration 0021) and the sealer links it (audit/sealing.py, docs/audit.md).
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gates.managers import GatedManager
from tenants.categories import not_personal, personal_data
from tenants.crypto import encrypt
from tenants.files import stored_files


class AccessLogEntry(models.Model):
    """A read of gated fields, or a refused attempt, on one channel."""

    class Channel(models.TextChoices):
        ADMIN = "admin", _("Admin")
        API = "api", _("API")
        PORTAL = "portal", _("Portal")
        EXPORT = "export", _("Export")
        PLAYBACK = "playback", _("Audio playback")
        TASK = "task", _("E-mail or webhook built by a task")
        SYSTEM = "system", _("A system job")
        SUBPROCESSOR = "subprocessor", _("A send to a sub-processor the DPA does not authorise")

    # Its index is access_user_at, which leads with the user.
    user = models.ForeignKey(
        "tenants.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    object_type = models.CharField(max_length=100)
    object_ids = models.JSONField(default=list)
    fields = models.JSONField(default=list)
    refused = models.BooleanField(default=False)
    path = models.CharField(max_length=300, blank=True)
    # The job that read, on the task and system channels: its system_context's reason.
    job = models.CharField(max_length=100, blank=True)
    # When the read happened: set when the entry is made, so an entry a request writes at its end
    # (audit/middleware.py) still carries the time of the read.
    at = models.DateTimeField(default=timezone.now, editable=False)

    objects = GatedManager()

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["user", "-at"], name="access_user_at")]

    def __str__(self) -> str:
        return f"Access #{self.pk}"


class SubProcessorUse(models.Model):
    """One check of the gate before a send (gates/outbound.py): the company's data handed to a
    sub-processor through an integration, or refused. What the RoPA, the evidence pack, the DPO's
    workspace and /metrics count. Ids, names of providers and categories only: no personal data."""

    integration = models.CharField(max_length=32)
    sub_processor = models.CharField(max_length=200, blank=True)
    region = models.CharField(max_length=8, blank=True)
    categories = models.JSONField(default=list)
    allowed = models.BooleanField()
    kind = models.CharField(max_length=20, blank=True, help_text="Why it was refused")
    reason = models.CharField(max_length=300, blank=True)
    dpa_version = models.PositiveIntegerField(null=True, blank=True)
    object_type = models.CharField(max_length=100)
    object_ids = models.JSONField(default=list)
    at = models.DateTimeField(auto_now_add=True)

    objects = GatedManager()

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["integration", "at"], name="subprocessor_use_at")]

    def __str__(self) -> str:
        return f"Send #{self.pk} ({self.integration}, {'sent' if self.allowed else 'refused'})"


class ChainLink(models.Model):
    """One link of the tenant's audit hash chain: the digest of an audit row's content, chained to
    the link before it. `verify_audit` recomputes both and reports the first link that breaks."""

    class Kind(models.TextChoices):
        CHANGE = "change", "Change (auditlog)"
        ACCESS = "access", "Access"

    seq = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=6, choices=Kind.choices)
    ref_id = models.BigIntegerField()
    content_digest = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = GatedManager()

    class Meta:
        ordering = ["seq"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "ref_id"], name="chain_one_link_per_row"),
            # A constraint, not `unique=True`, which would add a LIKE index nothing asks.
            models.UniqueConstraint(fields=["hash"], name="chain_link_hash_unique"),
        ]

    def __str__(self) -> str:
        return f"Link {self.seq}"


class UnsealedEntry(models.Model):
    """An audit row not yet linked into the chain. A trigger (migration 0021) queues every row
    inserted into the access log or the change log, in the statement that inserts it, so no code
    path can forget one; the sealer (audit/sealing.py) links them in this order and deletes these
    rows in the same transaction. Ids only: no personal data."""

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=6, choices=ChainLink.Kind.choices)
    ref_id = models.BigIntegerField()
    queued_at = models.DateTimeField(db_default=Now())

    objects = GatedManager()

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["kind", "ref_id"], name="unsealed_one_per_row")]
        indexes = [models.Index(fields=["queued_at"], name="unsealed_queued_at")]

    def __str__(self) -> str:
        return f"Unsealed {self.kind} #{self.ref_id}"


class LegalHold(models.Model):
    """Suspends the retention purge (and erasure) of a contact, or of one record, until it expires."""

    contact = models.ForeignKey("crm.Contact", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    record_type = models.CharField(max_length=100, blank=True, help_text="e.g. answering.Call")
    record_id = models.BigIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=300)
    expires_at = models.DateTimeField()
    created_by = models.ForeignKey("tenants.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = GatedManager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(contact__isnull=False)
                | (models.Q(record_id__isnull=False) & ~models.Q(record_type="")),
                name="hold_names_what_it_holds",
            ),
        ]

    def __str__(self) -> str:
        return f"Legal hold #{self.pk}"


class RetentionRun(models.Model):
    """One run of the retention purge: what it purged per category, and what it held back."""

    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    dry_run = models.BooleanField(default=False)
    report = models.JSONField(default=dict)

    objects = GatedManager()

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Retention run #{self.pk}"


class DataSubjectRequest(models.Model):
    """A data subject's request (Art. 15 access, 16 rectification, 17 erasure), due in one month."""

    class Kind(models.TextChoices):
        ACCESS = "access", _("Access (Art. 15)")
        RECTIFICATION = "rectification", _("Rectification (Art. 16)")
        ERASURE = "erasure", _("Erasure (Art. 17)")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        REFUSED = "refused", _("Refused")

    kind = models.CharField(max_length=14, choices=Kind.choices)
    phone_number = encrypt(models.CharField(max_length=20, blank=True))
    email = encrypt(models.CharField(max_length=254, blank=True))
    raised_by = models.ForeignKey("tenants.User", on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    result = models.JSONField(default=dict)
    export_file = models.CharField(max_length=200, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = GatedManager()

    class Meta:
        ordering = ["-raised_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} request #{self.pk}"


personal_data(
    DataSubjectRequest,
    phone_number="user.contact.phone_number",
    email="user.contact.email",
    # What a request found (counts, record ids) and whether a legal hold refused it are derived from
    # the identifiers: whoever could read them could learn, by raising requests, which number or
    # address is on record. So they need a grant of both identifiers' parent category, or the
    # controller's own eyes (client users).
    status="user.contact",
    result="user.contact",
)
stored_files(DataSubjectRequest, "export_file")


class LineDayStats(models.Model):
    """One line's day, counted: no person in it. Repeat callers are counted by keyed pseudonym."""

    # Its index is stats_line_day_once, which leads with the line.
    line = models.ForeignKey("answering.Line", on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    offered = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    abandoned = models.PositiveIntegerField(default=0)
    answer_p50_seconds = models.FloatField(null=True)
    answer_p90_seconds = models.FloatField(null=True)
    handle_avg_seconds = models.FloatField(null=True)
    within_target_share = models.FloatField(null=True, help_text="Answered within the line's target, of answered")
    voicemails = models.PositiveIntegerField(default=0)
    messages = models.PositiveIntegerField(default=0)
    repeat_caller_share = models.FloatField(null=True, help_text="Callers who called more than once that day")
    computed_at = models.DateTimeField(auto_now=True)

    objects = GatedManager()

    class Meta:
        ordering = ["-day", "line"]
        verbose_name_plural = "line day stats"
        constraints = [models.UniqueConstraint(fields=["line", "day"], name="stats_line_day_once")]

    def __str__(self) -> str:
        return f"{self.line_id} on {self.day}"


not_personal(LineDayStats, "repeat_caller_share", "voicemails", reason="counts and shares, no person in them")


class EvidencePack(models.Model):
    """An audit evidence pack the client company asked for (Art. 28(3)(h) GDPR): a ZIP generated from
    the records (never typed), stored encrypted, downloadable by the company's admins and the DPO."""

    requested_by = models.ForeignKey("tenants.User", on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    file = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    contents = models.JSONField(default=dict, help_text="Each file in the pack, with its number of rows")

    objects = GatedManager()

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"Evidence pack #{self.pk}"
