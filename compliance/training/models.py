"""Provider staff's confidentiality commitments and data-protection training (public schema).

The gates read these on every request: an agent or supervisor whose commitment is missing, or whose
required training is missing or expired, sees no personal field (see `selectors.training_gaps`).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q


class Course(models.Model):
    """A data-protection course. `required_for_all_staff` makes it the general course every member
    of the provider's staff must hold; a DPA version can require further courses
    (`agreements.CourseRequirement`)."""

    code = models.SlugField(max_length=40, unique=True, help_text="A short stable code, e.g. dp-essentials")
    title = models.CharField(max_length=200)
    validity_months = models.PositiveSmallIntegerField(help_text="How long a completion stays valid")
    required_for_all_staff = models.BooleanField(
        default=False, help_text="Every member of the provider's staff must hold a valid completion"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [models.CheckConstraint(condition=Q(validity_months__gt=0), name="course_validity_positive")]

    def __str__(self) -> str:
        return f"{self.title} ({self.code})"


class ConfidentialityCommitment(models.Model):
    """A staff member's signed confidentiality commitment (GDPR Art. 28(3)(b))."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="commitments")
    document_version = models.CharField(max_length=40, help_text="The version of the commitment signed")
    signed_on = models.DateField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user", "-signed_on"]
        constraints = [
            models.UniqueConstraint(fields=["user", "document_version"], name="commitment_once_per_version"),
        ]

    def __str__(self) -> str:
        return f"{self.user} signed confidentiality {self.document_version} on {self.signed_on}"


class TrainingRecord(models.Model):
    """One completion of a course. Renewals are new records; the latest expiry counts. A record is
    valid up to and including `expires_on`."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="training_records")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="records")
    completed_on = models.DateField()
    expires_on = models.DateField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user", "course", "-completed_on"]
        indexes = [models.Index(fields=["user", "course", "expires_on"], name="training_user_course_expiry")]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__gt=models.F("completed_on")),
                name="training_expires_after_completion",
                violation_error_message="A training record must expire after it was completed.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.course.code} completed {self.completed_on}, valid to {self.expires_on}"

    def valid_on(self, day: dt.date) -> bool:
        return self.completed_on <= day <= self.expires_on
