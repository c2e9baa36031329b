"""Data-processing agreements (DPAs), in the public schema: one agreement per client company, in
versions. The active version's grants decide which data categories the provider's agents may read
or write in that company."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext

from tenants.categories import TAXONOMY
from tenants.integrations import SERVICES
from tenants.models import ClientCompany

CATEGORY_CHOICES = [(key, f"{key}: {label}") for key, label in TAXONOMY.items()]
SERVICE_CHOICES = list(SERVICES.items())


class Agreement(models.Model):
    company = models.OneToOneField(ClientCompany, on_delete=models.CASCADE, related_name="agreement")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"DPA with {self.company}"


class AgreementVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        UNDER_REVIEW = "under_review", "Under DPO review"
        ACTIVE = "active", "Active"
        SUPERSEDED = "superseded", "Superseded"
        EXPIRED = "expired", "Expired"
        TERMINATED = "terminated", "Terminated"

    class EndOfProcessing(models.TextChoices):
        DELETE = "delete", "Delete all personal data"
        RETURN = "return", "Return all personal data, then delete copies"

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)

    # Art. 28(3) GDPR content
    subject_matter = models.TextField(blank=True)
    nature_and_purpose = models.TextField("nature and purpose of the processing", blank=True)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    data_subject_categories = models.TextField("categories of data subjects", blank=True)
    security_measures = models.TextField("security measures (Art. 32)", blank=True)
    data_subject_rights_assistance = models.TextField("assistance with data-subject rights", blank=True)
    end_of_processing = models.CharField(
        "deletion or return at the end", max_length=10, choices=EndOfProcessing.choices, blank=True
    )
    audit_rights = models.TextField(blank=True)
    staff_confidentiality = models.TextField(blank=True)
    breach_notification_hours = models.PositiveIntegerField(
        "breach notification to the controller (hours)", null=True, blank=True
    )

    # Workflow
    client_signed_by = models.CharField("signed for the client by", max_length=200, blank=True)
    client_signed_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    review_started_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agreement", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "number"], name="dpa_version_number_unique"),
            # Two active versions of one agreement are impossible, whatever the code above does.
            models.UniqueConstraint(fields=["agreement"], condition=Q(status="active"), name="dpa_one_active_version"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="dpa_end_not_before_start",
                violation_error_message="The end date cannot be before the start date.",
            ),
            models.CheckConstraint(
                condition=Q(breach_notification_hours__isnull=True) | Q(breach_notification_hours__gt=0),
                name="dpa_breach_hours_positive",
            ),
            models.CheckConstraint(
                condition=~Q(status="active") | (Q(approved_at__isnull=False) & Q(client_signed_at__isnull=False)),
                name="dpa_active_is_approved_and_signed",
            ),
        ]

    WAITING = (Status.SUBMITTED, Status.UNDER_REVIEW)

    def __str__(self) -> str:
        approved = self.status in self.WAITING and self.approved_at is not None
        status = "approved, not active yet" if approved else self.get_status_display()
        return f"{self.agreement.company} DPA v{self.number} ({status})"

    def stage_display(self) -> str:
        """The status in words that say what happens next. A version the DPO has approved stays
        "under review" until it is in force: it waits for the client's signature, or, signed too,
        for the DPO to choose Activate."""
        if self.status in self.WAITING and self.approved_at is not None:
            if self.client_signed_at is not None:
                return gettext("Approved and signed: the DPO activates it next")
            return gettext("Approved by the DPO: waiting for the client's signature")
        if self.status in self.WAITING and self.client_signed_at is not None:
            return gettext("Signed by the client: waiting for the DPO's approval")
        return {
            self.Status.DRAFT: gettext("Draft"),
            self.Status.SUBMITTED: gettext("Submitted: waiting for the DPO's review"),
            self.Status.UNDER_REVIEW: gettext("Under DPO review"),
            self.Status.ACTIVE: gettext("Active"),
            self.Status.SUPERSEDED: gettext("Superseded"),
            self.Status.EXPIRED: gettext("Expired"),
            self.Status.TERMINATED: gettext("Terminated"),
        }[self.status]

    def in_force_on(self, day: dt.date) -> bool:
        """Active, started, and not past its end date: the only state in which it grants anything."""
        return (
            self.status == self.Status.ACTIVE
            and self.start_date is not None
            and self.start_date <= day
            and (self.end_date is None or day <= self.end_date)
        )


class CategoryGrant(models.Model):
    """A data category granted to a provider role, for reading or for writing."""

    class Role(models.TextChoices):
        AGENT = "agent", "Agent"
        SUPERVISOR = "supervisor", "Supervisor"

    class Action(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Write"

    version = models.ForeignKey(AgreementVersion, on_delete=models.CASCADE, related_name="grants")
    role = models.CharField(max_length=16, choices=Role.choices)
    category = models.CharField(max_length=64, choices=CATEGORY_CHOICES)
    action = models.CharField(max_length=8, choices=Action.choices)

    class Meta:
        ordering = ["role", "category", "action"]
        constraints = [
            models.UniqueConstraint(fields=["version", "role", "category", "action"], name="dpa_grant_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.role} may {self.action} {self.category}"


class RetentionRule(models.Model):
    version = models.ForeignKey(AgreementVersion, on_delete=models.CASCADE, related_name="retention_rules")
    category = models.CharField(max_length=64, choices=CATEGORY_CHOICES)
    days = models.PositiveIntegerField()

    class Meta:
        ordering = ["category"]
        constraints = [
            models.UniqueConstraint(fields=["version", "category"], name="dpa_retention_unique"),
            models.CheckConstraint(condition=Q(days__gt=0), name="dpa_retention_days_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.category}: {self.days} days"


class SubProcessor(models.Model):
    """A provider the version lets the processor engage (GDPR Art. 28(2)). What the code may send it
    is exactly what this record says: the services it is engaged for, the regions it may process
    in and the data categories it may receive (compliance/agreements/subprocessors.py). A record
    that names none of them authorises nothing."""

    version = models.ForeignKey(AgreementVersion, on_delete=models.CASCADE, related_name="sub_processors")
    name = models.CharField(max_length=200, help_text="As the integration names it (TWILIO_SUBPROCESSOR, ...)")
    purpose = models.CharField(max_length=300)
    location = models.CharField(max_length=100)
    services = ArrayField(
        models.CharField(max_length=16, choices=SERVICE_CHOICES),
        default=list,
        blank=True,
        help_text="What it is engaged for, comma-separated: " + ", ".join(SERVICES),
    )
    regions = ArrayField(
        models.CharField(max_length=8),
        default=list,
        blank=True,
        help_text="Where it may process, comma-separated: ISO country codes (IE), or EEA or EU",
    )
    categories = ArrayField(
        models.CharField(max_length=64, choices=CATEGORY_CHOICES),
        default=list,
        blank=True,
        help_text="The data categories it may receive, comma-separated (a parent covers its children)",
    )
    authorised_on = models.DateField()
    objection_window_days = models.PositiveIntegerField(default=30)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.purpose})"

    @property
    def objection_window_ends(self) -> dt.date:
        return self.authorised_on + dt.timedelta(days=self.objection_window_days)


class CourseRequirement(models.Model):
    """A course the provider's agents and supervisors must hold, valid, to see any personal field of
    the company while this version is in force (on top of the course required of all staff)."""

    version = models.ForeignKey(AgreementVersion, on_delete=models.CASCADE, related_name="course_requirements")
    course = models.ForeignKey("training.Course", on_delete=models.PROTECT, related_name="dpa_requirements")

    class Meta:
        ordering = ["course"]
        constraints = [models.UniqueConstraint(fields=["version", "course"], name="dpa_course_once")]

    def __str__(self) -> str:
        return f"requires {self.course}"


class ClientComment(models.Model):
    """What a client admin said about a version: a rejection with the reasons for it. The DPO reads
    these in the admin; they are records and are never edited."""

    class Kind(models.TextChoices):
        REJECTION = "rejection", "Rejected by the client"

    version = models.ForeignKey(AgreementVersion, on_delete=models.CASCADE, related_name="client_comments")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    comment = models.TextField(help_text="The client's reasons, in its own words")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.version}"


class SubProcessorObjection(models.Model):
    """A client company's objection to a sub-processor, raised in its objection window (GDPR
    Art. 28(2)). Recorded for the DPO, who must answer it before relying on the sub-processor."""

    sub_processor = models.OneToOneField(SubProcessor, on_delete=models.CASCADE, related_name="objection")
    reason = models.TextField()
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(auto_now_add=True)
    # Open until the DPO records how it was settled; while open, nothing goes to the sub-processor.
    resolution = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-pk"]

    def __str__(self) -> str:
        return f"Objection to {self.sub_processor.name}"
