"""Billing, per client company (in its own schema): the plan it is billed on, and its monthly
statements with one line per billed call.

Money is `Decimal` everywhere, never float. Amounts are worked out unrounded and quantized to the
cent, ROUND_HALF_UP, once at the end (`billing/usage.py`). An issued statement and its lines are
immutable: the service refuses, and so does the database (the triggers of migration 0001), so a
correction is a new statement that names the one it corrects.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from gates.managers import GatedManager

MONEY = {"max_digits": 12, "decimal_places": 4, "validators": [MinValueValidator(0)]}
AMOUNT = {"max_digits": 14, "decimal_places": 2}
CURRENCY = RegexValidator(r"^[A-Z]{3}$", "Use the three-letter ISO 4217 code, e.g. EUR.")


class Plan(models.Model):
    """The company's billing terms: one row per company (its schema)."""

    singleton = models.BooleanField(default=True, editable=False)
    currency = models.CharField(max_length=3, default="EUR", validators=[CURRENCY], help_text="ISO 4217, e.g. EUR")
    included_minutes = models.PositiveIntegerField(default=0, help_text="Minutes a month included in the plan")
    increment_seconds = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(1)], help_text="Each call is billed up to a multiple of this"
    )
    minimum_seconds = models.PositiveIntegerField(default=0, help_text="Minimum billed per answered call")
    per_call_fee = models.DecimalField(default=0, help_text="Charged for every answered call", **MONEY)
    overage_rate_per_minute = models.DecimalField(default=0, help_text="Per minute beyond the included", **MONEY)
    count_wrap_up = models.BooleanField(default=False, help_text="Bill the agent's wrap-up after the call")
    count_transfer = models.BooleanField(default=False, help_text="Bill the time of warm transfers")
    updated_at = models.DateTimeField(auto_now=True)

    objects = GatedManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["singleton"], name="billing_plan_one_per_company")]

    def __str__(self) -> str:
        return f"Billing plan ({self.currency}, {self.increment_seconds}-s increments)"

    def clean(self):
        # One plan a company: the admin's add form says so rather than fail on the constraint.
        if Plan.objects.exclude(pk=self.pk).exists():
            raise ValidationError("This company has a billing plan already: change that one.")


class Statement(models.Model):
    """One month's bill: a draft while it may change, then issued for good."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ISSUED = "issued", "Issued"

    month = models.DateField(help_text="The first day of the month, in the company's zone")
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.DRAFT)
    corrects = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections")
    # The plan's terms as they were applied, so an issued statement never follows later edits.
    currency = models.CharField(max_length=3, validators=[CURRENCY])
    included_minutes = models.PositiveIntegerField()
    increment_seconds = models.PositiveIntegerField()
    minimum_seconds = models.PositiveIntegerField()
    per_call_fee = models.DecimalField(**MONEY)
    overage_rate_per_minute = models.DecimalField(**MONEY)
    count_wrap_up = models.BooleanField()
    count_transfer = models.BooleanField()
    # The figures (defined in docs/client-admin-guide.md#usage-and-billing).
    calls = models.PositiveIntegerField()
    billed_seconds = models.PositiveBigIntegerField()
    overage_seconds = models.PositiveBigIntegerField()
    overage_amount = models.DecimalField(**AMOUNT)
    call_fees_amount = models.DecimalField(**AMOUNT)
    total_amount = models.DecimalField(**AMOUNT)
    created_at = models.DateTimeField()
    issued_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey("tenants.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    objects = GatedManager()

    class Meta:
        ordering = ["-month", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["month"], condition=Q(status="draft"), name="billing_one_draft_a_month"),
            models.CheckConstraint(
                condition=Q(status="draft", issued_at=None) | Q(status="issued", issued_at__isnull=False),
                name="billing_issued_has_time",
            ),
        ]

    def __str__(self) -> str:
        kind = "correction " if self.corrects_id else ""
        return f"Statement {self.month:%Y-%m} #{self.pk} ({kind}{self.status})"


class StatementLine(models.Model):
    """One billed call: its ids and seconds, never the caller."""

    # No index of its own: billing_line_once leads with the statement.
    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="lines", db_index=False)
    # An id, not a foreign key: retention may anonymise or remove the call; the bill stays.
    call_id = models.PositiveIntegerField()
    telephony_sid = models.CharField(max_length=64)
    started_at = models.DateTimeField()
    talk_seconds = models.DecimalField(max_digits=12, decimal_places=6)
    wrap_up_seconds = models.DecimalField(max_digits=12, decimal_places=6)
    transfer_seconds = models.DecimalField(max_digits=12, decimal_places=6)
    counted_seconds = models.DecimalField(max_digits=12, decimal_places=6)
    billed_seconds = models.PositiveIntegerField()

    objects = GatedManager()

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [models.UniqueConstraint(fields=["statement", "call_id"], name="billing_line_once")]

    def __str__(self) -> str:
        return f"Billed call {self.telephony_sid}"
