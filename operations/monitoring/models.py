"""What monitoring records, in the public schema. None of it names a person: worker host names,
task names, schema names (client companies' slugs), object ids and times."""

from __future__ import annotations

from django.db import models

from tenants.categories import not_personal


class WorkerHeartbeat(models.Model):
    """The last time a worker ran the heartbeat task that beat sends every WORKER_HEARTBEAT_SECONDS."""

    hostname = models.CharField(max_length=200, unique=True, help_text="Celery's node name, e.g. celery@web-1")
    seen_at = models.DateTimeField()

    class Meta:
        ordering = ["-seen_at"]

    def __str__(self) -> str:
        return f"{self.hostname} at {self.seen_at:%Y-%m-%d %H:%M:%S}"


class JobRun(models.Model):
    """The last start, success and failure of one periodic (beat) task in one schema."""

    task = models.CharField(max_length=200)
    schema_name = models.CharField(max_length=63)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_succeeded_at = models.DateTimeField(null=True, blank=True)
    last_failed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True, help_text="The exception's class only, never its text")
    runs = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["task", "schema_name"]
        constraints = [models.UniqueConstraint(fields=["task", "schema_name"], name="jobrun_one_per_task_schema")]

    def __str__(self) -> str:
        return f"{self.task} in {self.schema_name}"

    @property
    def failing(self) -> bool:
        """The latest outcome is a failure."""
        return self.last_failed_at is not None and (
            self.last_succeeded_at is None or self.last_failed_at > self.last_succeeded_at
        )


class AlertSent(models.Model):
    """An alert that went out, so the next sweep does not send it again."""

    kind = models.CharField(max_length=40)
    company = models.CharField(max_length=63, help_text="The client company's slug")
    object_key = models.CharField(max_length=100, help_text="Which record, by id (and deadline)")
    sent_at = models.DateTimeField(auto_now_add=True)
    recipients = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "company", "object_key"], name="alert_sent_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.company} {self.object_key}"


not_personal(WorkerHeartbeat, "hostname", reason="a worker machine's Celery node name")
not_personal(JobRun, "schema_name", reason="a client company's slug or 'public'")
