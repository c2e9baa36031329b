"""The transactional outbox: a side effect (a delivery, a notice, an escalation) is a row written in
the same transaction as the change that causes it, never a call to the broker inside a request.

The relay (`services.outbox_relay`, run by the `outbox.relay` beat job and woken on commit) hands
due rows to Celery and marks them handed; a task's success marks its row done. A row handed but not
done within OUTBOX_LEASE_SECONDS (the broker lost it, or every retry failed) is handed again: the
tasks are idempotent by their attempts' keys, so a second hand-off sends nothing twice.
"""

from django.db import models
from django.utils import timezone

from gates.managers import GatedManager


class OutboxEntry(models.Model):
    task = models.CharField(max_length=100, help_text="The Celery task's registered name")
    args = models.JSONField(default=list, help_text="Ids and keys only: never a personal value")
    key = models.CharField(max_length=200, help_text="Idempotency: one row per side effect")
    due_at = models.DateTimeField(default=timezone.now, help_text="When to hand it (again, once handed)")
    created_at = models.DateTimeField(auto_now_add=True)
    handed_at = models.DateTimeField(null=True, blank=True, help_text="Last handed to the broker")
    handoffs = models.PositiveIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True, help_text="The task succeeded")
    last_error = models.CharField(max_length=300, blank=True)

    objects = GatedManager()

    class Meta:
        verbose_name_plural = "outbox entries"
        indexes = [
            models.Index(fields=["due_at"], name="outbox_open_due", condition=models.Q(done_at__isnull=True)),
        ]
        # A constraint, not `unique=True`, which would add a LIKE index nothing asks.
        constraints = [models.UniqueConstraint(fields=["key"], name="outbox_key_unique")]

    def __str__(self) -> str:
        return f"Outbox #{self.pk}: {self.task}"
