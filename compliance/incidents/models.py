"""The incident register (public schema): personal-data breaches and suspected ones, with the
deadlines each affected client's DPA sets and the controller's 72-hour clock (GDPR Art. 33)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models

from compliance.agreements.models import CATEGORY_CHOICES
from tenants.models import ClientCompany

CONTROLLER_HOURS = 72

RESPONSE_CHECKLIST = [
    "Contain: stop the exposure (revoke access, rotate keys, block the channel)",
    "Preserve evidence: export the audit chain and access log of the affected companies",
    "Assess: data categories, number of data subjects, likely consequences",
    "Notify each affected client company within its DPA's deadline",
    "Support the controllers' notifications to the supervisory authority (72 hours)",
    "Decide with the controllers whether data subjects must be told (Art. 34)",
    "Record the root cause and the measures taken",
]


class Incident(models.Model):
    class Severity(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"

    title = models.CharField(max_length=200)
    description = models.TextField(help_text="What happened; no personal data of the subjects here")
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.MEDIUM)
    detected_at = models.DateTimeField()
    contained_at = models.DateTimeField(null=True, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True, help_text="Reported to the controllers")
    estimated_subjects = models.PositiveIntegerField(default=0)
    categories = models.JSONField(default=list, help_text="The data categories affected")
    checklist_activated_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-detected_at"]

    def __str__(self) -> str:
        return f"Incident #{self.pk}: {self.title}"

    @property
    def controller_deadline(self) -> dt.datetime:
        """The controllers' own 72 hours to tell the supervisory authority (Art. 33(1))."""
        return self.detected_at + dt.timedelta(hours=CONTROLLER_HOURS)


class IncidentCompany(models.Model):
    """A client company affected by an incident, with its deadline from its DPA's breach clause."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="affected")
    company = models.ForeignKey(ClientCompany, on_delete=models.PROTECT, related_name="incidents")
    notification_hours = models.PositiveIntegerField(help_text="From the DPA in force when it was recorded")
    deadline = models.DateTimeField()
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["deadline"]
        constraints = [models.UniqueConstraint(fields=["incident", "company"], name="incident_company_once")]

    def __str__(self) -> str:
        return f"{self.company} in incident #{self.incident_id}"


class ChecklistItem(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="checklist")
    position = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=200)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["incident", "position"]

    def __str__(self) -> str:
        return self.text


class IncidentNotification(models.Model):
    """A notification sent to an affected client company about an incident."""

    affected = models.ForeignKey(IncidentCompany, on_delete=models.CASCADE, related_name="notifications")
    sent_at = models.DateTimeField(auto_now_add=True)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=20, default="email")
    recipients = models.PositiveSmallIntegerField(default=0)

    def __str__(self) -> str:
        return f"Notification #{self.pk}"


CATEGORY_KEYS = {key for key, _ in CATEGORY_CHOICES}
