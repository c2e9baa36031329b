"""Timers are rows, not broker countdowns, so a restart of the broker or worker loses none.

Escalation deadlines, expiring holds and reminders each schedule a Timer; the `timers.sweep` beat
job (per tenant) fires the due ones through the handler registered for their kind.
"""

from django.db import models

from gates.managers import GatedManager


class Timer(models.Model):
    kind = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64)
    due_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    fired_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    objects = GatedManager()

    class Meta:
        indexes = [
            models.Index(
                fields=["due_at"],
                name="timer_pending_due",
                condition=models.Q(fired_at__isnull=True, cancelled_at__isnull=True),
            ),
        ]
        constraints = [
            # One pending timer per (kind, target): rescheduling moves it instead of adding another.
            models.UniqueConstraint(
                fields=["kind", "target_id"],
                condition=models.Q(fired_at__isnull=True, cancelled_at__isnull=True),
                name="timer_one_pending_per_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.target_id} due {self.due_at:%Y-%m-%d %H:%M}"
