"""Scheduling, in each client company's schema: services, bookable resources and their
availability, appointments, the reminders sent for them, and the on-call rota.

All times are aware datetimes in the database; weekly availability is wall-clock time in the
company's time zone, so that 09:00 stays 09:00 across a daylight-saving change.
"""

from __future__ import annotations

from django.contrib.postgres.fields import DateTimeRangeField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from gates.engine import gate_objects
from gates.managers import GatedManager
from tenants.categories import derived, not_personal, personal_data
from tenants.crypto import encrypt


class Service(models.Model):
    """Something a caller can book, such as a 30-minute check-up."""

    name = models.CharField(max_length=120)
    duration_minutes = models.PositiveIntegerField(validators=[MinValueValidator(5), MaxValueValidator(24 * 60)])
    buffer_before_minutes = models.PositiveIntegerField(default=0, validators=[MaxValueValidator(240)])
    buffer_after_minutes = models.PositiveIntegerField(default=0, validators=[MaxValueValidator(240)])
    active = models.BooleanField(default=True)

    objects = GatedManager()

    class Meta:
        ordering = ["name"]
        # Constraints and plain indexes, not `unique=True` or `db_index=True` on a CharField, which
        # add a LIKE index nothing here asks (docs/performance.md, relations per company).
        constraints = [models.UniqueConstraint(fields=["name"], name="service_name_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.duration_minutes} min)"


class StaffMember(models.Model):
    """A person on the client company's staff: a dentist, a lawyer on call."""

    name = encrypt(models.CharField(max_length=200))
    phone_number = encrypt(models.CharField(max_length=20, blank=True))
    email = encrypt(models.CharField(max_length=254, blank=True))
    active = models.BooleanField(default=True)

    objects = GatedManager()

    def __str__(self) -> str:
        return f"Staff member #{self.pk}"


class Resource(models.Model):
    """A bookable person or room, with its weekly availability and a secret calendar feed."""

    class Kind(models.TextChoices):
        PERSON = "person", "Person"
        ROOM = "room", "Room"

    label = models.CharField(max_length=120, help_text="What callers are told, e.g. 'Room 2'")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    staff = models.ForeignKey(StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="resources")
    services = models.ManyToManyField(Service, related_name="resources")
    # Only a hash of the feed's secret is stored: the URL is shown once, and revoking clears it.
    feed_token_hash = models.CharField(max_length=64, blank=True)
    feed_issued_at = models.DateTimeField(null=True, blank=True)
    feed_includes_names = models.BooleanField(
        default=False, help_text="Show the caller's name in feed events, where the DPA grants names"
    )

    objects = GatedManager()

    class Meta:
        ordering = ["label"]
        constraints = [models.UniqueConstraint(fields=["label"], name="resource_label_unique")]
        # The calendar feed finds its resource by the hash of its secret (scheduling/views.py).
        indexes = [models.Index(fields=["feed_token_hash"], name="resource_feed_token_hash")]

    def __str__(self) -> str:
        return self.label


class WeeklyAvailability(models.Model):
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="availability")
    weekday = models.PositiveSmallIntegerField(validators=[MaxValueValidator(6)], help_text="0 = Monday")
    start_time = models.TimeField()
    end_time = models.TimeField()

    objects = GatedManager()

    class Meta:
        ordering = ["resource", "weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=models.F("start_time")), name="availability_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="availability_weekday_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.resource} {self.weekday} {self.start_time}-{self.end_time}"


class AvailabilityException(models.Model):
    """Time a resource is away (a holiday, an absence): nothing is bookable inside it."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="exceptions")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=120, blank=True)

    objects = GatedManager()

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="exception_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.resource} away {self.starts_at:%Y-%m-%d %H:%M}"


class Appointment(models.Model):
    """A booked or held slot. `blocked` (the slot with its buffers) may not overlap another live
    appointment of the same resource: a PostgreSQL exclusion constraint enforces it (migration
    0002), whatever the application does."""

    class Status(models.TextChoices):
        HELD = "held", "Held"
        BOOKED = "booked", "Booked"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Hold expired"

    LIVE = (Status.HELD, Status.BOOKED)

    # Its index is appointment_resource_start, which leads with the resource.
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="appointments", db_index=False)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="appointments")
    contact = models.ForeignKey("crm.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    blocked = DateTimeRangeField(help_text="The slot with its buffers")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BOOKED)
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    notes = encrypt(models.TextField(blank=True))
    notes_purged = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_reason = models.CharField(max_length=200, blank=True)

    objects = GatedManager()

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["resource", "starts_at"], name="appointment_resource_start")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="appointment_ends_after_start"),
            models.CheckConstraint(
                condition=~Q(status="held") | Q(hold_expires_at__isnull=False), name="appointment_hold_expires"
            ),
        ]

    def __str__(self) -> str:
        return f"Appointment #{self.pk}"


class ReminderSettings(models.Model):
    """What the client company wants its callers reminded of, and how. One row per company."""

    email_enabled = models.BooleanField(default=True)
    sms_enabled = models.BooleanField(default=False)
    lead_hours = models.PositiveIntegerField(default=24, validators=[MinValueValidator(1), MaxValueValidator(24 * 14)])
    include_service = models.BooleanField(default=True)
    include_resource = models.BooleanField(default=False)
    notify_changes = models.BooleanField(default=True)

    objects = GatedManager()

    class Meta:
        verbose_name_plural = "reminder settings"

    def __str__(self) -> str:
        return "Reminder settings"


class Notification(models.Model):
    """One reminder or change notice sent (or not) for an appointment. Holds no address or text:
    only what was sent, when, and how it went."""

    class Kind(models.TextChoices):
        REMINDER = "reminder", "Reminder"
        CHANGED = "changed", "Change notice"
        CANCELLED = "cancelled", "Cancellation notice"

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        SMS = "sms", "SMS"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    channel = models.CharField(max_length=5, choices=Channel.choices)
    key = models.CharField(max_length=120, help_text="Idempotency: one send per appointment event")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENT)
    tries = models.PositiveSmallIntegerField(default=0, help_text="Sends begun for this notice")
    provider_id = models.CharField(max_length=200, blank=True, help_text="Twilio's SID, the e-mail's Message-ID")
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = GatedManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key"], name="notification_key_unique")]

    def __str__(self) -> str:
        return f"{self.kind} by {self.channel}: {self.status}"


class OnCallShift(models.Model):
    """A staff member on call for a line, in an escalation position (1 is asked first)."""

    # Its index is oncall_line_period, which leads with the line.
    line = models.ForeignKey("answering.Line", on_delete=models.CASCADE, related_name="oncall_shifts", db_index=False)
    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="oncall_shifts")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    position = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])

    objects = GatedManager()

    class Meta:
        ordering = ["line", "starts_at", "position"]
        indexes = [models.Index(fields=["line", "starts_at", "ends_at"], name="oncall_line_period")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="oncall_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"On call #{self.pk}"


personal_data(
    StaffMember, name="user.contact.name", phone_number="user.contact.phone_number", email="user.contact.email"
)
personal_data(Appointment, notes="user.content.private")
not_personal(Service, "name", reason="the client company's own service catalogue")
not_personal(Resource, "feed_includes_names", reason="a setting, not a name")
derived(Resource, "feed_token_hash", reason="the hash that finds a calendar feed by its secret")
not_personal(ReminderSettings, "email_enabled", reason="a setting, not an address")
not_personal(Appointment, "notes_purged", reason="a flag set by the retention purge")

# Agents see the company's whole schedule and rota (they book into it); what they see of the
# people in it is the field gate's to decide.
for _model in (Service, Resource, StaffMember, Appointment, OnCallShift, WeeklyAvailability, AvailabilityException):
    gate_objects(_model, open_to_agents=True)
