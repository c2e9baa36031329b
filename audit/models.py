"""The audit trail of a client company: who read which personal fields (the access log), and a
hash chain over the access log and the change log (django-auditlog) that makes tampering evident.

Both tables are append-only for the application's database role: a trigger refuses UPDATE and
DELETE (migration 0002).
"""

from __future__ import annotations

from django.db import models


class AccessLogEntry(models.Model):
    """A read of gated fields, or a refused attempt, on one channel."""

    class Channel(models.TextChoices):
        ADMIN = "admin", "Admin"
        API = "api", "API"
        PORTAL = "portal", "Portal"
        EXPORT = "export", "Export"
        PLAYBACK = "playback", "Audio playback"
        TASK = "task", "E-mail or webhook built by a task"

    user = models.ForeignKey("tenants.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    object_type = models.CharField(max_length=100)
    object_ids = models.JSONField(default=list)
    fields = models.JSONField(default=list)
    refused = models.BooleanField(default=False)
    path = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["user", "-at"], name="access_user_at")]

    def __str__(self) -> str:
        return f"Access #{self.pk}"


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
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        constraints = [models.UniqueConstraint(fields=["kind", "ref_id"], name="chain_one_link_per_row")]

    def __str__(self) -> str:
        return f"Link {self.seq}"
